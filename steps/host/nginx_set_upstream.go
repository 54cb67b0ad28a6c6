package host

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.nginx.set-upstream",
		Title:   "Switch the nginx upstream",
		Summary: "Points an nginx upstream include file at another port, tests the configuration and reloads nginx; the undo points it back.",
		Doc: upstreamLayoutsDoc + "\n\n" +
			"Only the servers that name a colour's port (`port`, `backup_port` or one of `colours`) " +
			"are replaced: the new live server keeps the parameters of the one it replaces " +
			"(weight, max_fails, fail_timeout, ...), and every other line stays as it was: other " +
			"upstream blocks, keepalive, zone, comments, servers of no colour. A file that does " +
			"not read as either layout is not changed, and the error says what was expected and " +
			"what was found.\n\n" +
			"The file is replaced atomically (written beside, then renamed over), then " +
			"`test_command` checks the whole configuration and `reload_command` makes nginx " +
			"load it. A reload is graceful: old workers finish the requests they hold, new " +
			"ones use the new upstream, and no connection is refused.\n\n" +
			"When the test or the reload fails the previous file is put back before the step " +
			"fails, so the file always says what nginx serves. The undo restores the previous " +
			"file byte for byte (through `content`) and reloads again. The test and reload run " +
			"even when the file already has the wanted content: after a crash between write " +
			"and reload, running the step again completes the switch.",
		Rules: []steps.Rule{
			steps.ExactlyOneOf("port", "content"),
			steps.Between("port", 1, 65535),
			steps.Between("backup_port", 1, 65535),
			steps.Requires("backup_port", "port"),
			steps.Length("test_command", 1, 0),
			steps.Length("reload_command", 1, 0),
			steps.PositiveDuration("timeout"),
			steps.Between("colours", 1, 65535),
		},
		Params: []steps.Param{
			{Name: "file", Type: steps.String, Required: true,
				Doc: "The upstream include file (it must exist: nginx.conf includes it).", Examples: []any{"/etc/nginx/bluegreen/app.upstream"}},
			upstreamParam,
			{Name: "port", Type: steps.Int,
				Doc: "The port of the copy that must take traffic. Give port or content.", Examples: []any{8082}},
			{Name: "backup_port", Type: steps.Int,
				Doc: "Also list this port, usually the copy being replaced, as a `backup` server. " +
					"`nginx -s reload` returns before nginx has switched: for a moment, workers with the " +
					"previous configuration still send requests to the previous server. If that copy is " +
					"stopped right then (a rollback stops the new copy at once), nginx retries the request " +
					"on the backup instead of answering 502. Not usable with hash, ip_hash or random " +
					"balancing, which reject backup servers (the configuration test then fails)."},
			{Name: "host", Type: steps.String, Default: "127.0.0.1",
				Doc: "The host of the server line."},
			{Name: "content", Type: steps.String,
				Doc: "The whole include file, written as given instead of switching the servers to port. The undo uses it to restore a file exactly."},
			{Name: "test_command", Type: steps.List, Items: steps.String, Default: []any{"nginx", "-t"},
				Doc: "The command that checks nginx's configuration (argv, no shell)."},
			{Name: "reload_command", Type: steps.List, Items: steps.String, Default: []any{"nginx", "-s", "reload"},
				Doc:      "The command that reloads nginx (argv, no shell).",
				Examples: []any{[]any{"systemctl", "reload", "nginx"}}},
			{Name: "timeout", Type: steps.Duration, Default: 30 * time.Second,
				Doc: "Time allowed for each of the test and reload commands."},
			{Name: "colours", Type: steps.Map, Items: steps.Int,
				Doc: "Port of each colour, to name the colours in the outputs and in the file's comment."},
		},
		Outputs: []steps.Output{
			{Name: "previous_port", Type: steps.Int, Doc: "The live port before the switch (0 when the file named none)."},
			{Name: "port", Type: steps.Int, Doc: "The live port now."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the file's content changed."},
			{Name: "previous_colour", Type: steps.String, Doc: "The colour live before, when colours is given."},
			{Name: "colour", Type: steps.String, Doc: "The colour live now, when colours is given."},
		},
		Mutates: true,
		Traffic: "port",
		New:     func() steps.Step { return steps.StepFunc(setUpstreamStep) },
	})
}

func setUpstreamStep(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	file := p.String("file")
	fail := func(format string, args ...any) error {
		return fmt.Errorf(format, args...)
	}
	if p.Has("port") == p.Has("content") {
		return nil, fail("give exactly one of params \"port\" and \"content\"")
	}
	fi, err := os.Stat(file)
	if err != nil {
		return nil, fail("stat upstream file: %w", err)
	}
	old, err := os.ReadFile(file)
	if err != nil {
		return nil, fail("read upstream file: %w", err)
	}
	colours := p.Map("colours")
	name := p.String("upstream")
	ports := append(portsOf(colours), p.Int("port"), p.Int("backup_port"))
	var next string
	if p.Has("content") {
		next = p.String("content")
	} else {
		// A file that does not read as an upstream file is left alone: a
		// rewrite could not keep what it holds.
		f, err := parseUpstreamFile(file, string(old), name, ports)
		if err != nil {
			return nil, fail("%w", err)
		}
		next, err = f.rewrite(p.String("host"), p.Int("port"), p.Int("backup_port"), portsOf(colours), colourOfPort(colours, p.Int("port")))
		if err != nil {
			return nil, fail("%w", err)
		}
	}
	out := steps.Outputs{"changed": string(old) != next}
	out["previous_port"], out["previous_colour"] = livePort(file, string(old), name, colours)
	out["port"], out["colour"] = livePort(file, next, name, colours)

	if !call.Undoing {
		undo := steps.Undo{
			Kind: "host.nginx.set-upstream",
			Params: map[string]any{
				"file":           file,
				"upstream":       name,
				"content":        string(old),
				"test_command":   p.List("test_command"),
				"reload_command": p.List("reload_command"),
				"timeout":        p.Duration("timeout"),
			},
			Note: fmt.Sprintf("restore %s (live port %d) and reload nginx", file, out["previous_port"]),
		}
		if err := call.BeforeChange(undo); err != nil {
			return nil, fail("journal undo for %s: %w", file, err)
		}
	}

	if err := writeTestReload(ctx, file, old, []byte(next), fi.Mode().Perm(), p.Strings("test_command"), p.Strings("reload_command"), p.Duration("timeout")); err != nil {
		return nil, fail("%w", err)
	}
	call.Log.Info().Str("file", file).Any("from", out["previous_port"]).Any("to", out["port"]).Msg("nginx upstream switched and reloaded")
	return out, nil
}

// livePort returns the live port an upstream file names and its colour;
// (0, "") when the file names none or does not parse (content restored by
// an undo may be anything nginx accepts).
func livePort(path, text, name string, colours map[string]any) (int, string) {
	f, err := parseUpstreamFile(path, text, name, portsOf(colours))
	if err != nil {
		return 0, ""
	}
	servers, _ := f.servers()
	s, ok := liveServer(servers)
	if !ok {
		return 0, ""
	}
	return s.Port, colourOfPort(colours, s.Port)
}
