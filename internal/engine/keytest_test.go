package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// appFile returns the one record file in dir of an application released
// with the runbook named name under its default key (name-<digest>).
func appFile(t *testing.T, dir, name string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, name+"-*.json"))
	if len(files) != 1 {
		t.Fatalf("records of %s in %s: %v, want exactly one", name, dir, files)
	}
	return files[0]
}

// loadApp loads the record appFile finds.
func loadApp(t *testing.T, st state.Store, name string) (*state.Record, error) {
	t.Helper()
	key := strings.TrimSuffix(filepath.Base(appFile(t, st.(*state.FileStore).Dir(), name)), ".json")
	return st.Load(context.Background(), key)
}

// mustInputs resolves raw inputs against rb.
func mustInputs(t *testing.T, rb *Runbook, raw map[string]any) map[string]any {
	t.Helper()
	in, err := rb.ResolveInputs(raw)
	if err != nil {
		t.Fatal(err)
	}
	return in
}
