package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.nginx.preview",
		Title:   "Open an nginx preview route",
		Summary: "Sends only requests that carry a given header to the idle copy, through an nginx `map`, so it can be checked through the public entry point before any user reaches it; the undo closes the route.",
		Doc: "nginx.conf proxies to a variable that the preview file sets, and includes that file at " +
			"http level:\n\n" +
			"```nginx\n" +
			"include /etc/nginx/bluegreen/app.preview;   # in http { }\n" +
			"location / { proxy_pass http://$bluegreen_upstream; }\n" +
			"```\n\n" +
			"With no preview open the file maps every request to the live upstream " +
			"(`map $http_x_preview $bluegreen_upstream { default app; }`); write that once when setting " +
			"the host up. The step rewrites the file so that requests whose header equals `value` go " +
			"to a second upstream holding only the idle copy's port, then tests the configuration and " +
			"reloads nginx; other requests keep going to `upstream` untouched. When the test or the " +
			"reload fails, the previous file is put back.\n\n" +
			"The undo, journaled before the change, writes the closed file again and reloads; " +
			"`remove: true` does the same on purpose, once smoke checks through the public URL have " +
			"passed.",
		Rules: []steps.Rule{
			steps.Length("file", 1, 0),
			steps.Matches("header", `^[A-Za-z0-9-]+$`, "a header name of letters, digits and '-'"),
			steps.Matches("upstream", `^[A-Za-z0-9_.-]+$`, "an nginx upstream name of letters, digits, '_', '.' and '-'"),
			steps.Matches("variable", `^[A-Za-z0-9_]+$`, "an nginx variable name of letters, digits and '_'"),
			steps.RequiredWhen("remove", false, "value", "port"),
			steps.Matches("value", previewValue, "the exact header value: not default, hostnames, include or volatile (words nginx's map reserves) and not beginning with ~ (a regular expression to nginx)"),
			steps.Between("port", 1, 65535),
			steps.Length("host", 1, 0),
			steps.Length("test_command", 1, 0),
			steps.Length("reload_command", 1, 0),
			steps.PositiveDuration("timeout"),
		},
		Params: []steps.Param{
			{Name: "file", Type: steps.String, Required: true,
				Doc: "The preview file nginx.conf includes at http level (it must exist).", Examples: []any{"/etc/nginx/bluegreen/app.preview"}},
			{Name: "header", Type: steps.String, Default: "X-Preview",
				Doc: "The request header that chooses the preview."},
			{Name: "value", Type: steps.String,
				Doc: "The header value that sends a request to the idle copy (required unless remove).", Examples: []any{"green"}},
			{Name: "port", Type: steps.Int,
				Doc: "The idle copy's port (required unless remove).", Examples: []any{8082}},
			{Name: "host", Type: steps.String, Default: "127.0.0.1", Doc: "The idle copy's host."},
			{Name: "upstream", Type: steps.String, Default: "app",
				Doc: "The upstream every other request goes to: the one nginx.conf proxied to before."},
			{Name: "variable", Type: steps.String, Default: "bluegreen_upstream",
				Doc: "The variable the map sets and nginx.conf's proxy_pass uses (without `$`)."},
			{Name: "remove", Type: steps.Bool, Default: false,
				Doc: "Close the preview: map every request to `upstream` again (what the undo does)."},
			{Name: "test_command", Type: steps.List, Items: steps.String, Default: []any{"nginx", "-t"},
				Doc: "The command that checks nginx's configuration (argv, no shell)."},
			{Name: "reload_command", Type: steps.List, Items: steps.String, Default: []any{"nginx", "-s", "reload"},
				Doc: "The command that reloads nginx (argv, no shell)."},
			{Name: "timeout", Type: steps.Duration, Default: 30 * time.Second,
				Doc: "Time allowed for each of the test and reload commands."},
		},
		Outputs: []steps.Output{
			{Name: "open", Type: steps.Bool, Doc: "Whether a preview is open after the step."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the file's content changed."},
			{Name: "header", Type: steps.String, Doc: "The header that chooses the preview."},
			{Name: "value", Type: steps.String, Doc: "The header value that reaches the idle copy (empty when closed)."},
		},
		Mutates: true,
		New:     func() steps.Step { return steps.StepFunc(nginxPreviewStep) },
	})
}

// previewValue matches a map value nginx reads as the exact string: any
// string but the words its map block reserves and a regular expression
// (beginning with ~).
var previewValue = exceptWords("~", "default", "hostnames", "include", "volatile")

// exceptWords returns a pattern matching every non-empty string except the
// given words and anything beginning with prefix. Go's regular
// expressions have no negative look-ahead, so the pattern spells out how a
// string can differ from each word; the words must begin with different
// letters, none of them prefix's.
func exceptWords(prefix string, words ...string) string {
	first := regexp.QuoteMeta(prefix)
	for _, w := range words {
		first += w[:1]
	}
	// [\s\S] is any character, newlines too, in Go's syntax and in the
	// ECMAScript one of JSON Schema editors alike.
	const anyChar = `[\s\S]`
	alts := []string{"[^" + first + "]" + anyChar + "*"}
	for _, w := range words {
		for i := 1; i < len(w); i++ {
			alts = append(alts, w[:i], w[:i]+"[^"+w[i:i+1]+"]"+anyChar+"*")
		}
		alts = append(alts, w+anyChar+"+")
	}
	return "^(?:" + strings.Join(alts, "|") + ")$"
}

func nginxPreviewStep(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	// The spec's rules check every param's shape, and value and port when
	// a preview is opened, before the step runs.
	p := call.Params
	fail := func(format string, args ...any) error {
		return fmt.Errorf(format, args...)
	}
	file, header, upstream, variable := p.String("file"), p.String("header"), p.String("upstream"), p.String("variable")
	remove := p.Bool("remove")
	value, port := p.String("value"), p.Int("port")
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fail("stat preview file: %w", err)
	}
	old, err := os.ReadFile(file)
	if err != nil {
		return nil, fail("read preview file: %w", err)
	}
	next := renderPreview(header, variable, upstream, "", "", 0)
	if !remove {
		next = renderPreview(header, variable, upstream, value, p.String("host"), port)
	}
	if _, err := parseNginx(file, next); err != nil {
		return nil, fail("render %s: %w", file, err)
	}
	out := steps.Outputs{"open": !remove, "changed": string(old) != next, "header": header, "value": ""}
	if !remove {
		out["value"] = value
	}

	if !call.Undoing && !remove {
		undo := steps.Undo{
			Kind: "host.nginx.preview",
			Params: map[string]any{
				"file": file, "header": header, "upstream": upstream, "variable": variable, "remove": true,
				"test_command": p.List("test_command"), "reload_command": p.List("reload_command"), "timeout": p.Duration("timeout"),
			},
			Note: fmt.Sprintf("close the preview in %s (every request to upstream %s) and reload nginx", file, upstream),
		}
		if err := call.BeforeChange(undo); err != nil {
			return nil, fail("journal undo for %s: %w", file, err)
		}
	}
	if err := writeTestReload(ctx, file, old, []byte(next), fi.Mode().Perm(), p.Strings("test_command"), p.Strings("reload_command"), p.Duration("timeout")); err != nil {
		return nil, fail("%w", err)
	}
	call.Log.Info().Str("file", file).Bool("open", !remove).Str("header", header).Msg("nginx preview route written and reloaded")
	return out, nil
}

// renderPreview writes the preview file: a map from the header to the
// upstream each request goes to and, when a preview is open, the upstream
// of the idle copy. Names and values go through nginx's quoting.
func renderPreview(header, variable, upstream, value, host string, port int) string {
	source := "$http_" + strings.ToLower(strings.ReplaceAll(header, "-", "_"))
	q := crossplane.Enquote
	var b strings.Builder
	if value == "" {
		b.WriteString("# written by bluegreen host.nginx.preview: no preview open\n")
	} else {
		fmt.Fprintf(&b, "# written by bluegreen host.nginx.preview: requests with %s: %s go to %s\n", header, value, net.JoinHostPort(host, strconv.Itoa(port)))
	}
	fmt.Fprintf(&b, "map %s $%s {\n    default %s;\n", source, variable, q(upstream))
	if value != "" {
		fmt.Fprintf(&b, "    %s %s;\n", q(value), q(upstream+"_preview"))
	}
	b.WriteString("}\n")
	if value != "" {
		fmt.Fprintf(&b, "upstream %s {\n    server %s;\n}\n", q(upstream+"_preview"), q(net.JoinHostPort(host, strconv.Itoa(port))))
	}
	return b.String()
}

// writeTestReload replaces file with next, checks nginx's configuration and
// reloads it; when the check or the reload fails it puts old back, so the
// file always says what nginx serves.
func writeTestReload(ctx context.Context, file string, old, next []byte, perm os.FileMode, test, reload []string, timeout time.Duration) error {
	if err := writeFileAtomic(file, next, perm); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	restore := func(cause error) error {
		if err := writeFileAtomic(file, old, perm); err != nil {
			return errors.Join(cause, fmt.Errorf("restore %s after the failure: %w (nginx still serves the old configuration)", file, err))
		}
		return cause
	}
	if _, err := runCommand(ctx, test, "", nil, timeout); err != nil {
		return restore(fmt.Errorf("nginx configuration test failed, %s restored: %w", file, err))
	}
	if _, err := runCommand(ctx, reload, "", nil, timeout); err != nil {
		return restore(fmt.Errorf("nginx reload failed, %s restored: %w", file, err))
	}
	return nil
}
