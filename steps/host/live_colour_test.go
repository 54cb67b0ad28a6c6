package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLiveColour(t *testing.T) {
	root, dirsAny := releaseDirs(t) // current -> blue
	upstream := filepath.Join(root, "app.upstream")
	ports := map[string]any{"blue": 8081, "green": 8082}
	if err := os.Symlink(filepath.Join(root, "elsewhere"), filepath.Join(root, "stray")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		file       string
		raw        map[string]any
		wantColour string
		wantPort   int
		wantErr    string
	}{
		{name: "nginx green", file: "server 127.0.0.1:8082;\n",
			raw: map[string]any{"switch": "nginx", "upstream_file": upstream}, wantColour: "green", wantPort: 8082},
		{name: "nginx unknown port", file: "server 127.0.0.1:9999;\n",
			raw: map[string]any{"switch": "nginx", "upstream_file": upstream}, wantErr: "names port 9999 (server 127.0.0.1:9999), which is none of blue (port 8081"},
		{name: "nginx without file", raw: map[string]any{"switch": "nginx"}, wantErr: `"upstream_file" is required`},
		{name: "symlink blue", raw: map[string]any{"switch": "symlink", "link": filepath.Join(root, "current"), "dirs": dirsAny},
			wantColour: "blue", wantPort: 8081},
		{name: "symlink elsewhere", raw: map[string]any{"switch": "symlink", "link": filepath.Join(root, "stray"), "dirs": dirsAny},
			wantErr: "points at " + filepath.Join(root, "elsewhere") + ", which is none of"},
		{name: "symlink without dirs", raw: map[string]any{"switch": "symlink", "link": filepath.Join(root, "current")}, wantErr: `"dirs" are required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(upstream, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			tt.raw["ports"] = ports
			out, err := run(t, "host.live-colour", tt.raw, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out["colour"] != tt.wantColour || out["port"] != tt.wantPort {
				t.Errorf("outputs = %v", out)
			}
		})
	}
}
