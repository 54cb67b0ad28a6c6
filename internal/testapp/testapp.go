// Package testapp is the application the same-host tests release: a tiny
// HTTP server that says which colour it is. In folder mode it reads the
// colour from its release folder once, at start, as an application loads
// its code; in link mode it resolves a symlink on every request, as a web
// server serving a folder through a `current` link does, so switching the
// link switches what it serves without a restart.
//
// The binary in cmd/testapp wraps it for tests that start copies with a
// start command; Build compiles that binary.
package testapp

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ColourFile is the file in a release folder that names its colour.
const ColourFile = "colour"

// Handler serves GET /health ("ok <colour>") and every other path
// ("colour=<colour>"), with an X-Colour header. colour is called for each
// request; it fails when the release cannot be read, which the handler
// reports as a 500 so that a broken switch is visible to the load test.
func Handler(colour func() (string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := colour()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Colour", c)
		if r.URL.Path == "/health" {
			fmt.Fprintf(w, "ok %s\n", c)
			return
		}
		fmt.Fprintf(w, "colour=%s\n", c)
	})
}

// ReadColour reads dir's colour file.
func ReadColour(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ColourFile))
	if err != nil {
		return "", fmt.Errorf("read release colour: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// FolderColour returns the colour of dir, read once now.
func FolderColour(dir string) (func() (string, error), error) {
	c, err := ReadColour(dir)
	if err != nil {
		return nil, err
	}
	return func() (string, error) { return c, nil }, nil
}

// LinkColour returns a colour func that goes through link on every call.
// Opening link/colour resolves the link anew each time: there is no cache
// to go stale when the link is renamed over.
func LinkColour(link string) func() (string, error) {
	return func() (string, error) { return ReadColour(link) }
}

// MakeRelease creates dir with a colour file and, optionally, more files
// (relative path → content), as a deployment would unpack a release.
func MakeRelease(dir, colour string, files map[string]string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, ColourFile), []byte(colour+"\n"), 0o644); err != nil {
		return err
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Build compiles the testapp binary into dir and returns its path.
func Build(dir string) (string, error) {
	out := filepath.Join(dir, "testapp")
	cmd := exec.Command("go", "build", "-o", out, "github.com/bluegreen-deploy/bluegreen/internal/testapp/cmd/testapp")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build testapp: %v: %s", err, b)
	}
	return out, nil
}
