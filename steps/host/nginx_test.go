package host

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/nginxtest"
)

func TestParseUpstream(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		wantLive string
		wantPort int
		wantAll  []string
		wantErr  string
	}{
		{name: "written by bluegreen", text: renderUpstream("127.0.0.1", 8082, "green", 0), wantLive: "127.0.0.1:8082", wantPort: 8082, wantAll: []string{"127.0.0.1:8082"}},
		{name: "with backup", text: renderUpstream("127.0.0.1", 8082, "green", 8081), wantLive: "127.0.0.1:8082", wantPort: 8082, wantAll: []string{"127.0.0.1:8082", "127.0.0.1:8081"}},
		{name: "params and comments", text: "# live\nserver 127.0.0.1:8081 weight=5 max_fails=3; # blue\n", wantLive: "127.0.0.1:8081", wantPort: 8081, wantAll: []string{"127.0.0.1:8081"}},
		{name: "backup and down skipped", text: "server 127.0.0.1:8081 down;\nserver 127.0.0.1:8083 backup;\nserver 127.0.0.1:8082;", wantLive: "127.0.0.1:8082", wantPort: 8082,
			wantAll: []string{"127.0.0.1:8081", "127.0.0.1:8083", "127.0.0.1:8082"}},
		{name: "two on one line", text: "server a:1; server b:2;", wantLive: "a:1", wantPort: 1, wantAll: []string{"a:1", "b:2"}},
		{name: "ipv6", text: "server [::1]:9000;", wantLive: "[::1]:9000", wantPort: 9000, wantAll: []string{"[::1]:9000"}},
		{name: "default port", text: "server app.internal;", wantLive: "app.internal", wantPort: 80, wantAll: []string{"app.internal"}},
		{name: "unix socket", text: "server unix:/run/app.sock;", wantLive: "unix:/run/app.sock", wantPort: 0, wantAll: []string{"unix:/run/app.sock"}},
		{name: "other directives ignored", text: "keepalive 8;\nserver 127.0.0.1:8081;\n", wantLive: "127.0.0.1:8081", wantPort: 8081, wantAll: []string{"127.0.0.1:8081"}},
		{name: "commented out only", text: "# server 127.0.0.1:8081;\n", wantAll: nil},
		{name: "bad port", text: "server 127.0.0.1:99999;", wantErr: `expected a port from 1 to 65535, found "99999"`},
		{name: "no address", text: "server ;", wantErr: `invalid number of arguments in "server" directive in test.upstream:1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var servers []upstreamServer
			f, err := parseUpstreamFile("test.upstream", tt.text, "", nil)
			if err == nil {
				servers, err = f.servers()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var all []string
			for _, s := range servers {
				all = append(all, s.Address)
			}
			if !reflect.DeepEqual(all, tt.wantAll) {
				t.Errorf("servers = %v, want %v", all, tt.wantAll)
			}
			live, ok := liveServer(servers)
			if ok != (tt.wantLive != "") || live.Address != tt.wantLive || live.Port != tt.wantPort {
				t.Errorf("live = %+v (%v), want %s port %d", live, ok, tt.wantLive, tt.wantPort)
			}
		})
	}
}

func TestNginxGetUpstream(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.upstream")
	colours := map[string]any{"blue": 8081, "green": "8082"} // a port may arrive as text from Octopus
	tests := []struct {
		name       string
		text       string
		wantPort   int
		wantColour string
		wantErr    string
	}{
		{name: "blue", text: "server 127.0.0.1:8081;\n", wantPort: 8081, wantColour: "blue"},
		{name: "green", text: "server 127.0.0.1:8082;\n", wantPort: 8082, wantColour: "green"},
		{name: "unknown port", text: "server 127.0.0.1:9999;\n", wantPort: 9999, wantColour: ""},
		{name: "empty", text: "", wantErr: "has no server that takes traffic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(file, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := run(t, "host.nginx.get-upstream", map[string]any{"file": file, "colours": colours}, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out["port"] != tt.wantPort || out["colour"] != tt.wantColour {
				t.Errorf("outputs = %v", out)
			}
		})
	}
	if _, err := run(t, "host.nginx.get-upstream", map[string]any{"file": filepath.Join(dir, "missing")}, nil); err == nil ||
		!strings.Contains(err.Error(), "read upstream file") {
		t.Errorf("missing file: error = %v", err)
	}
}

// TestNginxSetUpstreamCommands drives set-upstream with stand-in test and
// reload commands, to cover every failure path without nginx.
func TestNginxSetUpstreamCommands(t *testing.T) {
	const blue = "# hand-written\nserver 127.0.0.1:8081 max_fails=2;\n"
	tests := []struct {
		name       string
		test       []any
		reload     []any
		journal    error
		wantErr    string
		wantFile   string // "" means the new content
		wantReload bool
	}{
		{name: "switched", test: []any{"true"}, wantReload: true},
		{name: "test fails", test: []any{"sh", "-c", "echo 'unexpected \"}\" in upstream.conf:2' >&2; exit 1"},
			wantErr: "nginx configuration test failed", wantFile: blue},
		{name: "reload fails", test: []any{"true"}, reload: []any{"sh", "-c", "echo 'invalid PID number' >&2; exit 1"},
			wantErr: "invalid PID number", wantFile: blue},
		{name: "journal fails", test: []any{"true"}, journal: errors.New("journal unavailable"),
			wantErr: "journal unavailable", wantFile: blue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "app.upstream")
			reloadLog := filepath.Join(dir, "reloads")
			if err := os.WriteFile(file, []byte(blue), 0o640); err != nil {
				t.Fatal(err)
			}
			reload := tt.reload
			if reload == nil {
				reload = []any{"sh", "-c", "echo reload >> " + reloadLog}
			}
			l := &undoLog{err: tt.journal}
			out, err := run(t, "host.nginx.set-upstream", map[string]any{
				"file": file, "port": 8082, "test_command": tt.test, "reload_command": reload,
				"colours": map[string]any{"blue": 8081, "green": 8082},
			}, l)
			got, _ := os.ReadFile(file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if string(got) != tt.wantFile {
					t.Errorf("file = %q after a failure, want it restored to %q", got, tt.wantFile)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				// The hand-written comment and the server's parameters stay.
				if want := "# hand-written\nserver 127.0.0.1:8082 max_fails=2;\n"; string(got) != want {
					t.Errorf("file = %q, want %q", got, want)
				}
				if out["previous_port"] != 8081 || out["port"] != 8082 || out["previous_colour"] != "blue" || out["colour"] != "green" {
					t.Errorf("outputs = %v", out)
				}
			}
			if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o640 {
				t.Errorf("file mode changed: %v %v", fi.Mode(), err)
			}
			_, reloadErr := os.Stat(reloadLog)
			if reloaded := reloadErr == nil; reloaded != tt.wantReload {
				t.Errorf("reloaded = %v, want %v", reloaded, tt.wantReload)
			}
			assertNoLeftovers(t, dir)
			if tt.journal != nil {
				return
			}
			// The journaled undo restores the hand-written file byte for byte.
			if len(l.undos) != 1 {
				t.Fatalf("undos = %v", l.undos)
			}
			u := l.undos[0]
			u.Params["test_command"] = []any{"true"}
			u.Params["reload_command"] = []any{"true"}
			if _, err := runCtx(t.Context(), t, u.Kind, u.Params, nil, true); err != nil {
				t.Fatalf("undo: %v", err)
			}
			if got, _ := os.ReadFile(file); string(got) != blue {
				t.Errorf("after undo file = %q, want %q", got, blue)
			}
		})
	}
}

// TestNginxSetUpstreamRealNginx switches a real nginx between two servers
// with its own test and reload commands, makes a configuration test fail
// and checks that nginx and the file stay as they were, then undoes.
func TestNginxSetUpstreamRealNginx(t *testing.T) {
	ports := map[string]any{}
	for _, c := range []string{"blue", "green"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, c) }))
		defer srv.Close()
		ports[c] = srv.Listener.Addr().(*net.TCPAddr).Port
	}
	n := nginxtest.Start(t, nginxtest.Options{Upstream: renderUpstream("127.0.0.1", ports["blue"].(int), "blue", 0)})
	cmds := map[string]any{"test_command": anyList(n.TestCommand()), "reload_command": anyList(n.ReloadCommand())}
	with := func(m map[string]any) map[string]any {
		out := map[string]any{"file": n.UpstreamFile, "colours": ports}
		for k, v := range cmds {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	waitServes(t, n, "blue")

	l := &undoLog{}
	out, err := run(t, "host.nginx.set-upstream", with(map[string]any{"port": ports["green"]}), l)
	if err != nil {
		t.Fatalf("switch to green: %v\n%s", err, n.Log())
	}
	if out["colour"] != "green" || out["previous_colour"] != "blue" {
		t.Errorf("outputs = %v", out)
	}
	waitServes(t, n, "green")
	got, err := run(t, "host.nginx.get-upstream", map[string]any{"file": n.UpstreamFile, "colours": ports}, nil)
	if err != nil || got["colour"] != "green" {
		t.Errorf("get-upstream after switch = %v, %v", got, err)
	}

	// A file nginx rejects: the test fails, the file is restored, nginx
	// keeps serving green.
	before, _ := os.ReadFile(n.UpstreamFile)
	_, err = run(t, "host.nginx.set-upstream", with(map[string]any{"content": "server 127.0.0.1:notaport;\n"}), nil)
	if err == nil || !strings.Contains(err.Error(), "nginx configuration test failed") {
		t.Fatalf("error = %v, want a failed configuration test", err)
	}
	if after, _ := os.ReadFile(n.UpstreamFile); string(after) != string(before) {
		t.Errorf("file = %q after a failed test, want %q", after, before)
	}
	if body := get(t, n.URL); body != "green" {
		t.Errorf("nginx serves %q after a failed test, want green", body)
	}

	// The undo of the first switch brings blue back.
	if _, err := runCtx(t.Context(), t, l.undos[0].Kind, l.undos[0].Params, nil, true); err != nil {
		t.Fatalf("undo: %v", err)
	}
	waitServes(t, n, "blue")
	for _, a := range n.Alerts() {
		// The rejected file's [emerg] comes from nginx -t, which logs to
		// the same error log; anything else is a real problem.
		if !strings.Contains(a, "notaport") {
			t.Errorf("nginx alert: %s", a)
		}
	}
}

// TestNginxSetUpstreamBackup checks what backup_port is for: with the old
// copy as backup, stopping the new copy right after the switch (what a
// rollback does) costs no request, whichever configuration the worker that
// takes it has loaded.
func TestNginxSetUpstreamBackup(t *testing.T) {
	blue := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "blue") }))
	defer blue.Close()
	green := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "green") }))
	bluePort, greenPort := blue.Listener.Addr().(*net.TCPAddr).Port, green.Listener.Addr().(*net.TCPAddr).Port
	n := nginxtest.Start(t, nginxtest.Options{Upstream: renderUpstream("127.0.0.1", bluePort, "", 0)})
	_, err := run(t, "host.nginx.set-upstream", map[string]any{
		"file": n.UpstreamFile, "port": greenPort, "backup_port": bluePort,
		"test_command": anyList(n.TestCommand()), "reload_command": anyList(n.ReloadCommand()),
	}, nil)
	if err != nil {
		t.Fatalf("switch: %v\n%s", err, n.Log())
	}
	waitServes(t, n, "green")
	green.Close()
	if body := get(t, n.URL); body != "blue" {
		t.Errorf("with green stopped nginx serves %q, want the backup blue", body)
	}
}

// waitServes waits until nginx answers with want. A reload is asynchronous
// (new workers start after the signal), so poll; the bound only guards
// against hanging.
func waitServes(t *testing.T, n *nginxtest.Nginx, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		body := get(t, n.URL)
		if body == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx serves %q, want %q\n%s", body, want, n.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func anyList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
