package host

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.http-check",
		Title:   "Check an HTTP endpoint",
		Summary: "Sends one HTTP request and fails unless the response has the expected status.",
		Doc: "Each check opens a fresh connection (no keep-alive), so it proves that the " +
			"server accepts new connections now, and it never holds a connection open to a " +
			"copy that is about to be stopped. Redirects are not followed: the status is the " +
			"one the URL itself returns.\n\n" +
			"A status other than `expect_status` is an error naming the URL and the status. " +
			"Used as a gate, that error counts as a poll that did not pass, so " +
			"`gate: {until: ok, timeout: 2m}` waits for a copy to become healthy.",
		Rules: []steps.Rule{
			steps.Matches("url", `^[Hh][Tt][Tt][Pp][Ss]?://[^/\s]+`, "an http:// or https:// URL with a host"),
			steps.Matches("method", `^[A-Z]+$`, "an HTTP method in capitals, such as GET or HEAD"),
			steps.Between("expect_status", 100, 599),
		},
		Params: []steps.Param{
			{Name: "url", Type: steps.String, Required: true,
				Doc:      "The URL to request (http or https).",
				Examples: []any{"http://127.0.0.1:8081/health"}},
			{Name: "method", Type: steps.String, Default: "GET",
				Doc: "The HTTP method."},
			{Name: "headers", Type: steps.Map, Items: steps.String, Sensitive: true,
				Doc:      "Request headers. `Host` sets the virtual host. Sensitive because health endpoints are often guarded by a token.",
				Examples: []any{map[string]any{"Host": "app.example.com"}}},
			{Name: "expect_status", Type: steps.Int, Default: 200,
				Doc: "The status code that counts as success."},
			{Name: "expect_body", Type: steps.String,
				Doc: "A text the response body must contain (for example the release's version, to prove " +
					"the request reached the new copy); the check fails when it is missing.",
				Examples: []any{"release 43"}},
			{Name: "timeout", Type: steps.Duration, Default: 10 * time.Second,
				Doc: "Time allowed for the whole exchange, connection to last body byte."},
			{Name: "insecure", Type: steps.Bool, Default: false,
				Doc: "Skip TLS certificate verification (a copy on its own port often serves the production name's certificate)."},
		},
		Outputs: []steps.Output{
			{Name: "status", Type: steps.Int, Doc: "The response status code."},
			{Name: "body", Type: steps.String, Doc: "The response body, at most 64 KiB (the middle is cut when longer)."},
			{Name: "headers", Type: steps.Map, Doc: "Response headers by canonical name; repeated headers are joined with \", \"."},
			{Name: "latency_ms", Type: steps.Number, Doc: "Milliseconds from sending the request to reading the whole body."},
			{Name: "ok", Type: steps.Bool, Doc: "Whether status equals expect_status and the body holds expect_body."},
		},
		New: func() steps.Step { return &httpCheck{} },
	})
}

// httpCheck runs host.http-check.
type httpCheck struct{}

var (
	httpClientsOnce sync.Once
	httpClients     [2]*http.Client // [verify, insecure]
)

// httpClient returns a process-wide client, made on first use. Keep-alives
// are off on purpose: see the spec's Doc.
func httpClient(insecure bool) *http.Client {
	httpClientsOnce.Do(func() {
		for i := range httpClients {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.DisableKeepAlives = true
			tr.Proxy = nil // a health check goes to the host it names, never through HTTP_PROXY
			if i == 1 {
				tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
			}
			httpClients[i] = &http.Client{
				Transport:     tr,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		}
	})
	if insecure {
		return httpClients[1]
	}
	return httpClients[0]
}

func (h *httpCheck) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	rawURL := p.String("url")
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("param \"url\": expected an http or https URL, found %q", redactURL(rawURL))
	}
	shown := u.Redacted()
	if p.Duration("timeout") > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Duration("timeout"))
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, p.String("method"), u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build %s request for %s: %w", p.String("method"), shown, err)
	}
	for k, v := range p.StringMap("headers") {
		if strings.EqualFold(k, "host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}

	start := time.Now()
	resp, err := httpClient(p.Bool("insecure")).Do(req)
	if err != nil {
		// url.Error repeats the URL, credentials included; report the cause only.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s %s: %w", req.Method, shown, err)
	}
	defer resp.Body.Close()
	body := newBoundedBuffer(outputLimit)
	find := &containsWriter{want: []byte(p.String("expect_body"))}
	_, copyErr := io.Copy(io.MultiWriter(body, find), resp.Body)
	latency := float64(time.Since(start).Microseconds()) / 1000

	want := p.Int("expect_status")
	out := steps.Outputs{
		"status":     resp.StatusCode,
		"body":       body.String(),
		"headers":    headerMap(resp.Header),
		"latency_ms": latency,
		"ok":         resp.StatusCode == want && copyErr == nil,
	}
	wantBody := p.String("expect_body")
	// The whole body is searched as it streams in: the output keeps at
	// most outputLimit bytes, but the text may sit anywhere.
	if wantBody != "" && !find.found {
		out["ok"] = false
	}
	if copyErr != nil {
		return out, fmt.Errorf("%s %s: read body: %w", req.Method, shown, copyErr)
	}
	if resp.StatusCode != want {
		return out, fmt.Errorf("%s %s returned status %d, expected %d", req.Method, shown, resp.StatusCode, want)
	}
	if out["ok"] == false {
		return out, fmt.Errorf("%s %s: the body does not contain %q (param expect_body); it begins %.80q", req.Method, shown, wantBody, body.String())
	}
	return out, nil
}

// headerMap turns response headers into the map type runbook expressions
// index (`headers["Content-Type"]`).
func headerMap(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = strings.Join(h[k], ", ")
	}
	return out
}

// redactURL hides the password of a URL that may not even parse.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		return "***" + s[at:]
	}
	return s
}

// containsWriter reports whether a text appeared in what was written,
// keeping only as many bytes as a match split across writes needs.
type containsWriter struct {
	want  []byte
	carry []byte
	found bool
}

func (c *containsWriter) Write(p []byte) (int, error) {
	if c.found || len(c.want) == 0 {
		return len(p), nil
	}
	buf := append(c.carry, p...)
	if bytes.Contains(buf, c.want) {
		c.found = true
		return len(p), nil
	}
	keep := min(len(c.want)-1, len(buf))
	c.carry = append(c.carry[:0:0], buf[len(buf)-keep:]...)
	return len(p), nil
}
