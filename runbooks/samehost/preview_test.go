package samehost

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
)

// fetchWith sends one request through the public URL with headers.
func fetchWith(url string, headers map[string]string) string {
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
	return strings.TrimSpace(string(b))
}

// TestPreviewThroughNginx runs same-host with the preview phase on a real
// nginx under load: while the preview is open, requests with the header
// reach green through the public URL and every other request still
// reaches blue; the preview is closed before the switch, and no request
// of the load fails.
func TestPreviewThroughNginx(t *testing.T) {
	h := newHost(t, "nginx-preview")
	h.extraInput["preview_expect_body"] = "colour=green"
	var mu sync.Mutex
	seen := map[string]string{}
	h.onEvent = func(e engine.Event) {
		if f, ok := e.(*engine.StepFinished); ok && f.ID == "preview" {
			mu.Lock()
			defer mu.Unlock()
			// A reload takes effect within moments: wait for the preview.
			deadline := time.Now().Add(10 * time.Second)
			for seen["with header"] != "colour=green" && time.Now().Before(deadline) {
				seen["with header"] = fetchWith(h.publicURL, map[string]string{"X-Preview": "green"})
			}
			seen["without header"] = fetchWith(h.publicURL, nil)
			seen["other value"] = fetchWith(h.publicURL, map[string]string{"X-Preview": "blue"})
		}
	}
	load := newLoadGen(h.publicURL, 4)
	res, err := h.release(t.Context())
	r := load.finish()
	if err != nil {
		t.Fatalf("release: %v\n%s", err, h.events)
	}
	if res.Live != "green" {
		t.Fatalf("live = %s, want green", res.Live)
	}
	for _, step := range []string{"preview", "preview-check", "preview-close", "switch-nginx"} {
		if !h.events.has("step " + step + " finished") {
			t.Fatalf("step %s did not run\n%s", step, h.events)
		}
	}
	mu.Lock()
	want := map[string]string{"with header": "colour=green", "without header": "colour=blue", "other value": "colour=blue"}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("while the preview was open, a request %s got %q, want %q", k, seen[k], v)
		}
	}
	mu.Unlock()
	assertPreviewClosed(t, h)
	h.assertLive("green")
	t.Logf("release with preview: %s", r)
	if r.Failed != 0 {
		t.Errorf("%d of %d requests failed:\n%s", r.Failed, r.Sent, strings.Join(r.Errors, "\n"))
	}
}

// TestPreviewCheckFailsRollsBack: the idle copy does not serve what the
// preview check expects, so the release rolls back: the preview route is
// closed, blue stays live and green is stopped.
func TestPreviewCheckFailsRollsBack(t *testing.T) {
	h := newHost(t, "nginx-preview")
	h.extraInput["preview_expect_body"] = "colour=purple"
	h.extraInput["health_timeout"] = "2s"
	_, err := h.release(t.Context())
	var rf *engine.RunFailedError
	if !errors.As(err, &rf) || !rf.RolledBack {
		t.Fatalf("error = %v, want a failed and rolled back run\n%s", err, h.events)
	}
	if !h.events.has("step preview finished") || h.events.has("step switch-nginx finished") {
		t.Fatalf("want the preview opened and no switch\n%s", h.events)
	}
	if !h.events.has("undo host.nginx.preview") {
		t.Fatalf("the preview's undo did not run\n%s", h.events)
	}
	assertPreviewClosed(t, h)
	// Workers of the previous configuration finish within moments of the
	// reload; after that a preview request reaches blue like any other.
	deadline := time.Now().Add(10 * time.Second)
	got := ""
	for got != "colour=blue" && time.Now().Before(deadline) {
		got = fetchWith(h.publicURL, map[string]string{"X-Preview": "green"})
	}
	if got != "colour=blue" {
		t.Errorf("after the rollback a preview request got %q, want colour=blue", got)
	}
	h.assertLive("blue")
}

func assertPreviewClosed(t *testing.T, h *host) {
	t.Helper()
	b, err := os.ReadFile(h.nginx.PreviewFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "app_preview") || !strings.Contains(string(b), "default app;") {
		t.Errorf("preview file still open:\n%s", b)
	}
}
