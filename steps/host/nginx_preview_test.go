package host

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/nginxtest"
)

// getWith sends one request with headers through nginx.
func getWith(t *testing.T, url string, headers map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestNginxPreviewRealNginx opens a preview on a real nginx: requests
// with the header reach green, every other request (another header
// value, none) stays on blue; the undo closes the route; a bad value is
// refused without a change.
func TestNginxPreviewRealNginx(t *testing.T) {
	ports := map[string]int{}
	for _, c := range []string{"blue", "green"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, c) }))
		defer srv.Close()
		ports[c] = srv.Listener.Addr().(*net.TCPAddr).Port
	}
	n := nginxtest.Start(t, nginxtest.Options{Upstream: fmt.Sprintf("server 127.0.0.1:%d;\n", ports["blue"]), Preview: true})
	closed, _ := os.ReadFile(n.PreviewFile)
	waitServes(t, n, "blue")
	params := map[string]any{"file": n.PreviewFile, "value": "green", "port": ports["green"],
		"test_command": anyList(n.TestCommand()), "reload_command": anyList(n.ReloadCommand())}

	l := &undoLog{}
	out, err := run(t, "host.nginx.preview", params, l)
	if err != nil {
		t.Fatalf("open preview: %v\n%s", err, n.Log())
	}
	if out["open"] != true || out["value"] != "green" || len(l.undos) != 1 {
		t.Fatalf("outputs %v, undos %v", out, l.undos)
	}
	waitFor(t, func() bool { return getWith(t, n.URL, map[string]string{"X-Preview": "green"}) == "green" })
	for i := 0; i < 20; i++ {
		if got := getWith(t, n.URL, nil); got != "blue" {
			t.Fatalf("a request without the header reached %q", got)
		}
		if got := getWith(t, n.URL, map[string]string{"X-Preview": "blue"}); got != "blue" {
			t.Fatalf("a request with another header value reached %q", got)
		}
		if got := getWith(t, n.URL, map[string]string{"X-Preview": "green"}); got != "green" {
			t.Fatalf("a preview request reached %q", got)
		}
	}

	// A reserved value is refused and changes nothing.
	bad := map[string]any{}
	for k, v := range params {
		bad[k] = v
	}
	bad["value"] = "default"
	before, _ := os.ReadFile(n.PreviewFile)
	if _, err := run(t, "host.nginx.preview", bad, nil); err == nil || !strings.Contains(err.Error(), `param "value"`) {
		t.Fatalf("reserved value: %v", err)
	}
	if after, _ := os.ReadFile(n.PreviewFile); string(after) != string(before) {
		t.Fatalf("a refused preview changed the file")
	}

	// The undo closes the route: the header no longer reaches green.
	if _, err := runCtx(t.Context(), t, l.undos[0].Kind, l.undos[0].Params, nil, true); err != nil {
		t.Fatalf("undo: %v\n%s", err, n.Log())
	}
	waitFor(t, func() bool { return getWith(t, n.URL, map[string]string{"X-Preview": "green"}) == "blue" })
	got, _ := os.ReadFile(n.PreviewFile)
	if strings.Contains(string(got), "app_preview") || !strings.Contains(string(got), "default app;") {
		t.Errorf("closed preview file:\n%s\n(first written by hand as %q)", got, closed)
	}
	if a := n.Alerts(); len(a) > 0 {
		t.Errorf("nginx alerts: %v", a)
	}
}

// waitFor polls cond until it holds: a reload takes effect within moments,
// not at once. The bound only guards against hanging.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
