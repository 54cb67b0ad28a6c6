package host

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/nginxtest"
)

// TestLiveColourUpstreamBlock is the reported failure: an upstream file
// holding a whole `upstream app { ... }` block, included at http level,
// made detect fail with "names port 0, which is none of blue ... green".
func TestLiveColourUpstreamBlock(t *testing.T) {
	file := filepath.Join(t.TempDir(), "app.conf")
	text := "upstream app {\n    server 127.0.0.1:8082;\n    keepalive 16;\n}\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "host.live-colour", map[string]any{
		"switch": "nginx", "upstream_file": file, "ports": map[string]any{"blue": 8081, "green": 8082},
	}, nil)
	if err != nil {
		t.Fatalf("detect on an upstream block: %v", err)
	}
	if out["colour"] != "green" || out["port"] != 8082 {
		t.Errorf("outputs = %v, want green on 8082", out)
	}
}

// TestUpstreamRewriteLayouts switches blue (8081) to green (8082) with
// blue as backup in every layout, and checks the whole file afterwards:
// what names a colour changes, everything else stays.
func TestUpstreamRewriteLayouts(t *testing.T) {
	tests := []struct {
		name, upstream, text, want string
	}{
		{name: "empty file", text: "",
			want: "# written by bluegreen host.nginx.set-upstream: live colour green\nserver 127.0.0.1:8082;\nserver 127.0.0.1:8081 backup;\n"},
		{name: "blank lines only", text: "\n  \n",
			want: "# written by bluegreen host.nginx.set-upstream: live colour green\nserver 127.0.0.1:8082;\nserver 127.0.0.1:8081 backup;\n"},
		{name: "written by bluegreen", text: renderUpstream("127.0.0.1", 8081, "blue", 8082),
			want: renderUpstream("127.0.0.1", 8082, "green", 8081)},
		{name: "bare with params, comments, keepalive",
			text: "# app servers\n\nserver 127.0.0.1:8081 weight=5 max_fails=3 fail_timeout=10s; # blue\nserver 127.0.0.1:9000 backup; # maintenance page\nkeepalive 8;\n",
			want: "# app servers\n\nserver 127.0.0.1:8082 weight=5 max_fails=3 fail_timeout=10s;\nserver 127.0.0.1:8081 weight=5 max_fails=3 fail_timeout=10s backup;\nserver 127.0.0.1:9000 backup; # maintenance page\nkeepalive 8;\n"},
		{name: "block with keepalive and zone",
			text: "# included from http { }\nupstream app {\n\tzone app 64k;\n\tserver 127.0.0.1:8081 max_fails=2;\n\tkeepalive 16;\n}\n",
			want: "# included from http { }\nupstream app {\n\tzone app 64k;\n\tserver 127.0.0.1:8082 max_fails=2;\n\tserver 127.0.0.1:8081 max_fails=2 backup;\n\tkeepalive 16;\n}\n"},
		{name: "several blocks, chosen by name", upstream: "app",
			text: "upstream api {\n  server 127.0.0.1:8081;\n}\n\nupstream app {\n  server 127.0.0.1:8081;\n  server 127.0.0.1:8082 backup;\n}\n",
			want: "upstream api {\n  server 127.0.0.1:8081;\n}\n\nupstream app {\n  server 127.0.0.1:8082;\n  server 127.0.0.1:8081 backup;\n}\n"},
		{name: "several blocks, one names a colour",
			text: "upstream api { server 10.0.0.5:9000; }\nupstream app {\n    server 127.0.0.1:8081;\n}\nmap $http_upgrade $connection_upgrade { default upgrade; '' close; }\n",
			want: "upstream api { server 10.0.0.5:9000; }\nupstream app {\n    server 127.0.0.1:8082;\n    server 127.0.0.1:8081 backup;\n}\nmap $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"},
		{name: "odd whitespace, one line",
			text: "upstream   app{server 127.0.0.1:8081    weight=2;keepalive 4;}",
			want: "upstream app {\n    server 127.0.0.1:8082 weight=2;\n    server 127.0.0.1:8081 weight=2 backup;\n    keepalive 4;\n}\n"},
		{name: "server split over lines",
			text: "upstream app {\n    server\n        127.0.0.1:8081\n        weight=3;\n}\n",
			want: "upstream app {\n    server 127.0.0.1:8082 weight=3;\n    server 127.0.0.1:8081 weight=3 backup;\n}\n"},
		{name: "no colour server yet",
			text: "upstream app {\n    keepalive 4;\n}\n",
			want: "upstream app {\n    keepalive 4;\n    server 127.0.0.1:8082;\n    server 127.0.0.1:8081 backup;\n}\n"},
		{name: "crlf and no final newline",
			text: "server 127.0.0.1:8081;\r\nkeepalive 2;",
			want: "server 127.0.0.1:8082;\nserver 127.0.0.1:8081 backup;\nkeepalive 2;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ports := []int{8081, 8082}
			f, err := parseUpstreamFile("app.conf", tt.text, tt.upstream, ports)
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.rewrite("127.0.0.1", 8082, 8081, ports, "green")
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("rewritten file:\n%s\nwant:\n%s", got, tt.want)
			}
			if port, _ := livePort("app.conf", got, tt.upstream, map[string]any{"blue": 8081, "green": 8082}); port != 8082 {
				t.Errorf("the rewritten file names port %d, want 8082", port)
			}
		})
	}
}

// TestUpstreamFileErrors: a file that is neither layout says what was
// expected and what was found, and set-upstream leaves it unchanged.
func TestUpstreamFileErrors(t *testing.T) {
	tests := []struct {
		name, upstream, text string
		wantErr              []string
	}{
		{name: "unbalanced brace", text: "upstream app {\n    server 127.0.0.1:8081;\n",
			wantErr: []string{"expected bare `server ADDRESS [params];` lines", "the parser found: unexpected end of file, expecting \"}\""}},
		{name: "http server block", text: "server {\n    listen 80;\n}\n",
			wantErr: []string{"expected bare", "found a `server { ... }` block at line 1, which is an http virtual server"}},
		{name: "location block", text: "location / { proxy_pass http://app; }\n",
			wantErr: []string{"expected bare", "found a `location { ... }` block at line 1"}},
		{name: "unknown name", upstream: "web", text: "upstream app { server 127.0.0.1:8081; }\nupstream api { server 127.0.0.1:9000; }\n",
			wantErr: []string{"expected an `upstream web { ... }` block; found upstream blocks app, api"}},
		{name: "ambiguous", text: "upstream app { server 127.0.0.1:8081; }\nupstream app2 { server 127.0.0.1:8082; }\n",
			wantErr: []string{"holds upstream blocks app, app2 and 2 of them name a colour's port", "param upstream"}},
		{name: "both layouts", text: "server 127.0.0.1:8081;\nupstream app { server 127.0.0.1:8082; }\n",
			wantErr: []string{"not both; found a bare server line at line 1"}},
		{name: "bad port", text: "upstream app { server 127.0.0.1:0; }\n",
			wantErr: []string{`expected a port from 1 to 65535, found "0"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "app.conf")
			if err := os.WriteFile(file, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			l := &undoLog{}
			_, err := run(t, "host.nginx.set-upstream", map[string]any{
				"file": file, "upstream": tt.upstream, "port": 8082, "colours": map[string]any{"blue": 8081, "green": 8082},
				"test_command": []any{"true"}, "reload_command": []any{"true"},
			}, l)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %v, want it to say %q", err, w)
				}
			}
			if got, _ := os.ReadFile(file); string(got) != tt.text || len(l.undos) != 0 {
				t.Errorf("file = %q, undos %v: want the file untouched and nothing journaled", got, l.undos)
			}
			if _, err := run(t, "host.live-colour", map[string]any{"switch": "nginx", "upstream_file": file, "upstream": tt.upstream,
				"ports": map[string]any{"blue": 8081, "green": 8082}}, nil); err == nil || !strings.Contains(err.Error(), tt.wantErr[0]) {
				t.Errorf("live-colour error = %v, want %q", err, tt.wantErr[0])
			}
		})
	}
}

// TestNginxUpstreamBlocksRealNginx switches a real nginx whose upstream
// file, included at http level, holds two upstream blocks with keepalive
// and server parameters: nginx accepts every rewrite, serves the new
// colour, the other block is untouched, and the undo restores the file
// byte for byte.
func TestNginxUpstreamBlocksRealNginx(t *testing.T) {
	ports := map[string]any{}
	for _, c := range []string{"blue", "green"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, c) }))
		defer srv.Close()
		ports[c] = srv.Listener.Addr().(*net.TCPAddr).Port
	}
	initial := fmt.Sprintf("# upstreams of the web tier\nupstream app {\n    zone app 64k;\n    server 127.0.0.1:%d weight=2 max_fails=3 fail_timeout=5s;\n    keepalive 8;  # per worker\n}\n\nupstream api {\n    server 127.0.0.1:%d;\n}\n",
		ports["blue"], ports["blue"])
	n := nginxtest.Start(t, nginxtest.Options{Upstream: initial, UpstreamBlocks: true, UpstreamKeepalive: true})
	with := map[string]any{"file": n.UpstreamFile, "upstream": "app", "colours": ports,
		"test_command": anyList(n.TestCommand()), "reload_command": anyList(n.ReloadCommand())}
	waitServes(t, n, "blue")

	detect := func(want string) {
		t.Helper()
		out, err := run(t, "host.live-colour", map[string]any{"switch": "nginx", "upstream_file": n.UpstreamFile, "upstream": "app", "ports": ports}, nil)
		if err != nil || out["colour"] != want {
			t.Fatalf("detect = %v, %v; want %s", out, err, want)
		}
	}
	detect("blue")
	l := &undoLog{}
	params := map[string]any{"port": ports["green"], "backup_port": ports["blue"]}
	for k, v := range with {
		params[k] = v
	}
	if _, err := run(t, "host.nginx.set-upstream", params, l); err != nil {
		t.Fatalf("switch: %v\n%s", err, n.Log())
	}
	waitServes(t, n, "green")
	detect("green")
	got, _ := os.ReadFile(n.UpstreamFile)
	want := strings.Replace(initial, fmt.Sprintf("    server 127.0.0.1:%d weight=2", ports["blue"]),
		fmt.Sprintf("    server 127.0.0.1:%d weight=2 max_fails=3 fail_timeout=5s;\n    server 127.0.0.1:%d weight=2", ports["green"], ports["blue"]), 1)
	want = strings.Replace(want, "fail_timeout=5s;\n    keepalive", "fail_timeout=5s backup;\n    keepalive", 1)
	if string(got) != want {
		t.Errorf("file after the switch:\n%s\nwant:\n%s", got, want)
	}
	if _, err := runCtx(t.Context(), t, l.undos[0].Kind, l.undos[0].Params, nil, true); err != nil {
		t.Fatalf("undo: %v", err)
	}
	waitServes(t, n, "blue")
	if got, _ := os.ReadFile(n.UpstreamFile); string(got) != initial {
		t.Errorf("after undo the file is\n%s\nwant\n%s", got, initial)
	}
	if a := n.Alerts(); len(a) > 0 {
		t.Errorf("nginx alerts: %v", a)
	}
}
