package samehost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/nginxtest"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/internal/testapp"
	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/rs/zerolog"

	_ "github.com/bluegreen-deploy/bluegreen/steps/flow"
	_ "github.com/bluegreen-deploy/bluegreen/steps/host"
	_ "github.com/bluegreen-deploy/bluegreen/steps/octopus"
)

// testappBin is the compiled internal/testapp/cmd/testapp, built once.
var testappBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "samehost-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testappBin, err = testapp.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// host is one machine's worth of same-host set-up: two release folders,
// two ports, blue running and live, and the public entry point in front.
type host struct {
	t         testing.TB
	mode      string
	blocks    bool
	root      string
	dirs      map[string]string
	ports     map[string]int
	nginx     *nginxtest.Nginx
	link      string
	publicURL string
	rb        *engine.Runbook
	store     state.Store
	events    *eventLog
	// onEvent, when set, sees every engine event as it happens.
	onEvent    func(engine.Event)
	extraInput map[string]any
}

// newHost prepares a host in mode "nginx" or "symlink" with blue live.
// Mode "nginx-preview" is nginx proxying to $bluegreen_upstream, set by a
// preview map file, with the runbook's preview phase on.
// Mode "nginx-blocks" is nginx with the other common layout: the upstream
// file, included at http level, holds whole upstream blocks (the switched
// one with keepalive and server parameters, and another one).
func newHost(t testing.TB, mode string) *host {
	t.Helper()
	blocks, preview := mode == "nginx-blocks", mode == "nginx-preview"
	if blocks || preview {
		mode = "nginx"
	}
	if mode == "nginx" {
		nginxtest.Bin(t) // skip or fail early, as the environment says
	}
	h := &host{t: t, mode: mode, blocks: blocks, root: t.TempDir(), dirs: map[string]string{}, ports: map[string]int{}, events: &eventLog{}}
	for _, c := range []string{"blue", "green"} {
		h.dirs[c] = filepath.Join(h.root, c)
		h.ports[c] = nginxtest.FreePort(t)
		// Both copies hold the same release: only their colour file, which
		// plays the per-colour settings, and their runtime files differ.
		err := testapp.MakeRelease(h.dirs[c], c, map[string]string{
			"index.html":      "<h1>release 42</h1>\n",
			"config/app.yaml": "workers: 4\n",
			"licence.lic":     "licensee=example seats=2\n",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(h.stopCopies)
	h.startCopy("blue")

	switch mode {
	case "nginx":
		opt := nginxtest.Options{Upstream: fmt.Sprintf("server 127.0.0.1:%d;\n", h.ports["blue"])}
		if blocks {
			opt = nginxtest.Options{UpstreamBlocks: true, UpstreamKeepalive: true, Upstream: fmt.Sprintf(
				"# app servers\nupstream app {\n    server 127.0.0.1:%d max_fails=2 fail_timeout=5s; # blue\n    keepalive 16;\n}\n\n"+
					"upstream admin {\n    server 127.0.0.1:%d;\n}\n", h.ports["blue"], h.ports["blue"])}
			h.extraInput = map[string]any{"upstream_name": "app"}
		}
		opt.Preview = preview
		h.nginx = nginxtest.Start(t, opt)
		h.publicURL = h.nginx.URL + "/"
		if preview {
			h.extraInput = map[string]any{"preview": true, "preview_file": h.nginx.PreviewFile}
		}
	case "symlink":
		h.link = filepath.Join(h.root, "current")
		if err := os.Symlink(h.dirs["blue"], h.link); err != nil {
			t.Fatal(err)
		}
		h.publicURL = serveLink(t, h.link)
	}

	rb, err := engine.Load("../same-host.yaml", steps.Default)
	if err != nil {
		t.Fatalf("load runbook: %v", err)
	}
	h.rb = rb
	if h.store, err = state.NewFileStore(filepath.Join(h.root, "state")); err != nil {
		t.Fatal(err)
	}
	h.waitPublic("blue")
	return h
}

// serveLink starts the web server of symlink mode: it resolves the link on
// every request (testapp.LinkColour), like a web server whose document root
// is the `current` link.
func serveLink(t testing.TB, link string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: testapp.Handler(testapp.LinkColour(link)), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String() + "/"
}

// inputs are the runbook inputs for this host.
func (h *host) inputs() map[string]any {
	in := map[string]any{
		"switch":      h.mode,
		"blue_dir":    h.dirs["blue"],
		"green_dir":   h.dirs["green"],
		"blue_port":   h.ports["blue"],
		"green_port":  h.ports["green"],
		"public_url":  h.publicURL,
		"health_path": "/health",
		// The copies write their pid file and log into their own folder,
		// as many applications do: exactly what drift_ignore is for.
		"start_command":  []any{"sh", "-c", testappBin + " -dir {dir} -port {port} -pidfile {dir}/app.pid >>{dir}/app.log 2>&1 &"},
		"stop_command":   []any{"sh", "-c", "test -f {dir}/app.pid || exit 0; kill -TERM \"$(cat {dir}/app.pid)\" || true"},
		"drain":          "300ms",
		"health_timeout": "20s",
		"port_timeout":   "20s",
		"drift_ignore":   []any{"colour", "*.log", "*.pid"},
		"identity_files": []any{"licence.lic"},
	}
	if h.mode == "nginx" {
		in["upstream_file"] = h.nginx.UpstreamFile
		in["nginx_test_command"] = toAny(h.nginx.TestCommand())
		in["nginx_reload_command"] = toAny(h.nginx.ReloadCommand())
	} else {
		in["current_link"] = h.link
	}
	for k, v := range h.extraInput {
		in[k] = v
	}
	return in
}

// release runs the runbook once.
func (h *host) release(ctx context.Context) (*engine.Result, error) {
	x := &engine.Executor{
		Registry: steps.Default,
		Store:    h.store,
		Sinks: []engine.Sink{h.events.add, func(e engine.Event) {
			if h.onEvent != nil {
				h.onEvent(e)
			}
		}},
		Log:         zerolog.Nop(),
		UndoBackoff: 100 * time.Millisecond,
	}
	return x.Run(ctx, h.rb, h.inputs())
}

// startCopy starts a colour's copy with the same command the runbook uses.
func (h *host) startCopy(colour string) {
	h.t.Helper()
	dir, port := h.dirs[colour], h.ports[colour]
	log, err := os.OpenFile(filepath.Join(dir, "app.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		h.t.Fatal(err)
	}
	defer log.Close()
	p, err := os.StartProcess(testappBin, []string{testappBin, "-dir", dir, "-port", strconv.Itoa(port), "-pidfile", filepath.Join(dir, "app.pid")},
		&os.ProcAttr{Files: []*os.File{nil, log, log}})
	if err != nil {
		h.t.Fatal(err)
	}
	go p.Wait() // reap it whenever it exits
	h.waitListening(port, true)
}

// stopCopies kills whatever copy is still running, by its pid file: the
// copies outlive the commands that started them, so nothing else would.
func (h *host) stopCopies() {
	for _, dir := range h.dirs {
		b, err := os.ReadFile(filepath.Join(dir, "app.pid"))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// waitListening waits until port is (or is not) accepting connections.
func (h *host) waitListening(port int, want bool) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
		}
		if (err == nil) == want {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("port %d listening=%v, want %v", port, err == nil, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitPublic waits until the public URL serves colour.
func (h *host) waitPublic(colour string) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := fetch(h.publicURL)
		if got == "colour="+colour {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("public URL serves %q, want colour=%s", got, colour)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertLive checks every place the live colour shows: the public URL, the
// upstream file or link, which copies run.
func (h *host) assertLive(live string) {
	h.t.Helper()
	idle := map[string]string{"blue": "green", "green": "blue"}[live]
	h.waitPublic(live)
	switch h.mode {
	case "nginx":
		b, _ := os.ReadFile(h.nginx.UpstreamFile)
		// The first server line is the live one; the rest of the file
		// keeps what it held.
		first := strings.Index(string(b), "server 127.0.0.1:")
		if want := fmt.Sprintf("server 127.0.0.1:%d", h.ports[live]); first < 0 || !strings.HasPrefix(string(b[first:]), want+";") && !strings.HasPrefix(string(b[first:]), want+" ") {
			h.t.Errorf("upstream file %q does not name %s first", b, want)
		}
		if h.blocks {
			for _, keep := range []string{"# app servers\n", " max_fails=2 fail_timeout=5s", "    keepalive 16;\n}\n",
				fmt.Sprintf("\nupstream admin {\n    server 127.0.0.1:%d;\n}\n", h.ports["blue"])} {
				if !strings.Contains(string(b), keep) {
					h.t.Errorf("upstream file %q lost %q", b, keep)
				}
			}
		}
	case "symlink":
		if got, _ := os.Readlink(h.link); got != h.dirs[live] {
			h.t.Errorf("link points at %s, want %s", got, h.dirs[live])
		}
	}
	h.waitListening(h.ports[live], true)
	h.waitListening(h.ports[idle], false)
}

func fetch(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// eventLog keeps the engine's events for failure messages.
type eventLog struct {
	mu  sync.Mutex
	evs []string
}

func (l *eventLog) add(e engine.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch ev := e.(type) {
	case *engine.StepFailed:
		l.evs = append(l.evs, fmt.Sprintf("step %s failed: %s", ev.Label, ev.Error))
	case *engine.StepFinished:
		l.evs = append(l.evs, fmt.Sprintf("step %s finished in %s", ev.Label, ev.Duration.Round(time.Millisecond)))
	case *engine.StepSkipped:
		l.evs = append(l.evs, fmt.Sprintf("step %s skipped: %s", ev.Label, ev.Reason))
	case *engine.UndoApplied:
		l.evs = append(l.evs, fmt.Sprintf("undo %s (%s) error=%q", ev.Undo.Kind, ev.Undo.Note, ev.Error))
	case *engine.GateEvaluated:
		if ev.Error != "" {
			l.evs = append(l.evs, fmt.Sprintf("gate %s attempt %d: %s", ev.Label, ev.Attempt, ev.Error))
		}
	}
	if len(l.evs) > 200 {
		l.evs = l.evs[len(l.evs)-200:]
	}
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.evs, "\n")
}

func (l *eventLog) has(substr string) bool {
	return strings.Contains(l.String(), substr)
}

// switches is how many consecutive releases the load tests make: 20, or 3
// with -short; SAMEHOST_SWITCHES overrides both while iterating on the code.
func switches(t testing.TB) int {
	if s := os.Getenv("SAMEHOST_SWITCHES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("SAMEHOST_SWITCHES=%q: want a positive integer", s)
		}
		return n
	}
	if testing.Short() {
		return 3
	}
	return 20
}

// TestSwitchUnderLoad runs the runbook 20 times in a row in each switch
// mode while a load generator sends requests through the public URL, and
// requires that not one request fails.
func TestSwitchUnderLoad(t *testing.T) {
	for _, mode := range []string{"nginx", "nginx-blocks", "symlink"} {
		t.Run(mode, func(t *testing.T) {
			h := newHost(t, mode)
			load := newLoadGen(h.publicURL, 8)
			// A baseline before any switch, for the latency comparison.
			time.Sleep(2 * time.Second)
			load.setPhase("during")
			live := "blue"
			n := switches(t)
			for i := 0; i < n; i++ {
				res, err := h.release(t.Context())
				if err != nil {
					load.finish()
					t.Fatalf("release %d (from %s): %v\n%s", i+1, live, err, h.events)
				}
				next := map[string]string{"blue": "green", "green": "blue"}[live]
				if res.Live != next {
					t.Fatalf("release %d: live = %s, want %s", i+1, res.Live, next)
				}
				live = next
			}
			r := load.finish()
			t.Logf("same-host %s, %d switches: %s", mode, n, r)
			if r.Failed != 0 {
				t.Errorf("%d of %d requests failed; first errors:\n%s", r.Failed, r.Sent, strings.Join(r.Errors, "\n"))
			}
			if r.Phases["during"].N < 10*n || r.Colours["blue"] == 0 || r.Colours["green"] == 0 {
				t.Errorf("the load did not see the switches (during: %d requests, colours %v)", r.Phases["during"].N, r.Colours)
			}
			h.assertLive(live)
			if h.nginx != nil {
				if alerts := h.nginx.Alerts(); len(alerts) > 0 {
					t.Errorf("nginx alerts:\n%s", strings.Join(alerts, "\n"))
				}
			}
		})
	}
}

// TestFailureBeforeSwitchStopsIdle makes the drift check find a manual fix
// in the live copy: the release must stop the idle copy it started and
// leave traffic where it was.
func TestFailureBeforeSwitchStopsIdle(t *testing.T) {
	for _, mode := range []string{"nginx", "symlink"} {
		t.Run(mode, func(t *testing.T) {
			h := newHost(t, mode)
			if err := os.WriteFile(filepath.Join(h.dirs["blue"], "hotfix.php"), []byte("<?php // patched by hand"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := h.release(t.Context())
			var rf *engine.RunFailedError
			if !errors.As(err, &rf) || !rf.RolledBack {
				t.Fatalf("error = %v, want a failed and rolled back run\n%s", err, h.events)
			}
			if !strings.Contains(err.Error(), "hotfix.php") && !h.events.has("hotfix.php") {
				t.Errorf("the failure does not name the drifted file: %v\n%s", err, h.events)
			}
			if !h.events.has("step start-idle finished") {
				t.Fatalf("the idle copy was never started, so this test proves nothing\n%s", h.events)
			}
			h.assertLive("blue")
		})
	}
}

// TestFailureAfterSwitchSwitchesBack makes the check through the public
// URL fail after the switch: traffic must go back to blue and green must
// be stopped.
func TestFailureAfterSwitchSwitchesBack(t *testing.T) {
	for _, mode := range []string{"nginx", "nginx-blocks", "symlink"} {
		t.Run(mode, func(t *testing.T) {
			h := newHost(t, mode)
			if h.extraInput == nil {
				h.extraInput = map[string]any{}
			}
			h.extraInput["expect_body"], h.extraInput["health_timeout"] = "colour=purple", "2s"
			load := newLoadGen(h.publicURL, 4)
			_, err := h.release(t.Context())
			r := load.finish()
			var rf *engine.RunFailedError
			if !errors.As(err, &rf) || !rf.RolledBack {
				t.Fatalf("error = %v, want a failed and rolled back run\n%s", err, h.events)
			}
			if !h.events.has("step switch-" + h.mode + " finished") {
				t.Fatalf("the switch never happened, so this test proves nothing\n%s", h.events)
			}
			h.assertLive("blue")
			t.Logf("switch and switch back: %s", r)
			if r.Failed != 0 {
				t.Errorf("%d of %d requests failed during the switch and switch back:\n%s", r.Failed, r.Sent, strings.Join(r.Errors, "\n"))
			}
		})
	}
}
