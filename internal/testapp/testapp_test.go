package testapp

import (
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestHandler(t *testing.T) {
	root := t.TempDir()
	for _, c := range []string{"blue", "green"} {
		if err := MakeRelease(filepath.Join(root, c), c, nil); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "current")
	if err := os.Symlink(filepath.Join(root, "blue"), link); err != nil {
		t.Fatal(err)
	}
	folder, err := FolderColour(filepath.Join(root, "green"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		colour  func() (string, error)
		path    string
		repoint string // re-point the link before the request
		want    string
		status  int
	}{
		{"folder health", folder, "/health", "", "ok green\n", 200},
		{"folder page", folder, "/", "", "colour=green\n", 200},
		{"link follows blue", LinkColour(link), "/", "", "colour=blue\n", 200},
		{"link re-read per request", LinkColour(link), "/", "green", "colour=green\n", 200},
		{"broken link is a 500", LinkColour(filepath.Join(root, "missing")), "/", "", "", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.repoint != "" {
				os.Remove(link)
				if err := os.Symlink(filepath.Join(root, tt.repoint), link); err != nil {
					t.Fatal(err)
				}
			}
			rec := httptest.NewRecorder()
			Handler(tt.colour).ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.status || (tt.want != "" && string(body) != tt.want) {
				t.Errorf("got %d %q, want %d %q", rec.Code, body, tt.status, tt.want)
			}
		})
	}
}
