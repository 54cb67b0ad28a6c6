package host

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGlobSet(t *testing.T) {
	gs, err := compileGlobs([]string{"*.log", "cache", "config/local.yaml", "logs/**", "**/tmp/*.pid", "uploads/", "/anchored.txt"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{"app.log", false, true},
		{"deep/er/app.log", false, true},
		{"app.log.gz", false, false},
		{"cache", true, true},
		{"a/cache", true, true},
		{"config/local.yaml", false, true},
		{"other/config/local.yaml", false, false},
		{"logs/a/b", false, true},
		{"logs", true, true},
		{"x/tmp/app.pid", false, true},
		{"tmp/app.pid", false, true},
		{"uploads", true, true},
		{"uploads", false, false},
		{"anchored.txt", false, true},
		{"sub/anchored.txt", false, false},
		{"src/main.go", false, false},
	}
	for _, tt := range tests {
		if got := gs.Match(tt.rel, tt.isDir); got != tt.want {
			t.Errorf("Match(%q, dir=%v) = %v, want %v", tt.rel, tt.isDir, got, tt.want)
		}
	}
	if _, err := compileGlobs([]string{"[unclosed"}); err == nil || !strings.Contains(err.Error(), "[unclosed") {
		t.Errorf("bad pattern: error = %v", err)
	}
}

func TestDrift(t *testing.T) {
	base := map[string]string{
		"index.html":       "<h1>app</h1>",
		"bin/run.sh":       "#!/bin/sh\n",
		"config/app.yaml":  "x: 1\n",
		"logs/today.log":   "blue only",
		"static/style.css": "body{}",
	}
	tests := []struct {
		name   string
		change func(t *testing.T, right string)
		ignore []any
		want   map[string][]any // outputs compared as lists
	}{
		{name: "identical", change: func(*testing.T, string) {}, ignore: []any{"logs/"},
			want: map[string][]any{"paths": {}}},
		{name: "ignored difference", change: func(t *testing.T, r string) { write(t, r, "logs/today.log", "green") }, ignore: []any{"*.log"},
			want: map[string][]any{"paths": {}}},
		{name: "same size, other content", change: func(t *testing.T, r string) { write(t, r, "config/app.yaml", "x: 2\n") }, ignore: []any{"logs/"},
			want: map[string][]any{"paths": {"config/app.yaml"}, "modified": {"config/app.yaml"}}},
		{name: "permission fixed by hand", change: func(t *testing.T, r string) { chmod(t, r, "bin/run.sh", 0o755) }, ignore: []any{"logs/"},
			want: map[string][]any{"paths": {"bin/run.sh"}, "modified": {"bin/run.sh"}}},
		{name: "added and removed", change: func(t *testing.T, r string) {
			write(t, r, "hotfix.php", "<?php")
			os.Remove(filepath.Join(r, "index.html"))
		}, ignore: []any{"logs/"},
			want: map[string][]any{"paths": {"hotfix.php", "index.html"}, "only_left": {"index.html"}, "only_right": {"hotfix.php"}}},
		{name: "folder only on one side is one path", change: func(t *testing.T, r string) { os.RemoveAll(filepath.Join(r, "static")) }, ignore: []any{"logs/"},
			want: map[string][]any{"paths": {"static/"}, "only_left": {"static/"}}},
		{name: "link target", change: func(t *testing.T, r string) {
			if err := os.Symlink("/etc/passwd", filepath.Join(r, "config/link")); err != nil {
				t.Fatal(err)
			}
		}, ignore: []any{"logs/"}, want: map[string][]any{"paths": {"config/link"}, "only_right": {"config/link"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			left, right := filepath.Join(root, "blue"), filepath.Join(root, "green")
			for rel, content := range base {
				write(t, left, rel, content)
				write(t, right, rel, content)
			}
			tt.change(t, right)
			raw := map[string]any{"left": left, "right": right, "ignore": tt.ignore, "fail_on_drift": false}
			out, err := run(t, "host.drift", raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"paths", "only_left", "only_right", "modified"} {
				want := tt.want[name]
				if want == nil {
					want = []any{}
				}
				if !reflect.DeepEqual(out[name], want) {
					t.Errorf("%s = %v, want %v", name, out[name], want)
				}
			}
			if out["count"] != len(tt.want["paths"]) || out["same"] != (len(tt.want["paths"]) == 0) {
				t.Errorf("count = %v same = %v", out["count"], out["same"])
			}

			// With fail_on_drift (the default) drift is an error naming the paths.
			delete(raw, "fail_on_drift")
			_, err = run(t, "host.drift", raw, nil)
			if n := len(tt.want["paths"]); n == 0 && err != nil {
				t.Errorf("no drift but error %v", err)
			} else if n > 0 && (err == nil || !strings.Contains(err.Error(), tt.want["paths"][0].(string))) {
				t.Errorf("drift error = %v, want it to name %v", err, tt.want["paths"][0])
			}
		})
	}
}

func TestDriftMaxPathsAndErrors(t *testing.T) {
	root := t.TempDir()
	left, right := filepath.Join(root, "l"), filepath.Join(root, "r")
	for i := 0; i < 30; i++ {
		write(t, right, filepath.Join("extra", string(rune('a'+i%26))+strings.Repeat("x", i/26)), "")
	}
	write(t, left, "keep", "")
	write(t, right, "keep", "")
	os.Mkdir(filepath.Join(left, "extra"), 0o755)
	out, err := run(t, "host.drift", map[string]any{"left": left, "right": right, "fail_on_drift": false, "max_paths": 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out["count"] != 30 || len(out["paths"].([]any)) != 5 {
		t.Errorf("count = %v, paths = %v", out["count"], out["paths"])
	}
	_, err = run(t, "host.drift", map[string]any{"left": left, "right": right}, nil)
	if err == nil || !strings.Contains(err.Error(), "30 paths differ") || !strings.Contains(err.Error(), "and 20 more") {
		t.Errorf("error = %v", err)
	}
	if _, err := run(t, "host.drift", map[string]any{"left": left, "right": filepath.Join(root, "missing")}, nil); err == nil ||
		!strings.Contains(err.Error(), "scan right") {
		t.Errorf("missing folder: error = %v", err)
	}
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, root, rel string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(root, rel), mode); err != nil {
		t.Fatal(err)
	}
}
