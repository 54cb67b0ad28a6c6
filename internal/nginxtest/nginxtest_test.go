package nginxtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStartProxyReload proves the harness itself: nginx proxies to the
// server the include file names, and a reload picks up a new one.
func TestStartProxyReload(t *testing.T) {
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "a") }))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "b") }))
	defer b.Close()

	n := Start(t, Options{Upstream: "server " + a.Listener.Addr().String() + ";\n"})
	if got := get(t, n.URL); got != "a" {
		t.Fatalf("before reload: got %q, want a", got)
	}
	if err := os.WriteFile(n.UpstreamFile, []byte("server "+b.Listener.Addr().String()+";\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n.Reload(t)
	// A reload is asynchronous: new workers take over shortly after the
	// signal. Poll until they do (bounded, not a timing assertion).
	deadline := time.Now().Add(10 * time.Second)
	for get(t, n.URL) != "b" {
		if time.Now().After(deadline) {
			t.Fatalf("reload did not switch to b:\n%s", n.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if alerts := n.Alerts(); len(alerts) > 0 {
		t.Errorf("nginx alerts:\n%s", strings.Join(alerts, "\n"))
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
