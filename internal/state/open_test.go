package state_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

func TestOpen(t *testing.T) {
	def := filepath.Join(t.TempDir(), ".bluegreen")
	other := t.TempDir()
	for _, tc := range []struct {
		spec, dir string
	}{
		{"", def},
		{"  ", def},
		{other, other},
		{"relative/dir", "relative/dir"},
		{"file://" + other, other},
	} {
		st, err := state.Open(tc.spec, def)
		if err != nil {
			t.Errorf("Open(%q): %v", tc.spec, err)
			continue
		}
		fs, ok := st.(*state.FileStore)
		if !ok || fs.Dir() != tc.dir {
			t.Errorf("Open(%q) = %#v; want a file store on %s", tc.spec, st, tc.dir)
		}
	}
}

// fakeStore stands in for the DynamoDB store.
type fakeStore struct {
	state.Store
	table string
}

func TestOpenDynamo(t *testing.T) {
	saved := state.NewDynamoStore
	t.Cleanup(func() { state.NewDynamoStore = saved })

	state.NewDynamoStore = nil
	if _, err := state.Open("dynamodb://bluegreen-state", "x"); err == nil || !strings.Contains(err.Error(), "DynamoDB") {
		t.Errorf("Open(dynamodb://) without a DynamoDB store: %v; want an error that says so", err)
	}

	state.NewDynamoStore = func(_ context.Context, table string) (state.Store, error) {
		if table == "broken" {
			return nil, errors.New("boom")
		}
		return &fakeStore{table: table}, nil
	}
	st, err := state.Open("dynamodb://bluegreen-state", "x")
	if err != nil {
		t.Fatalf("Open(dynamodb://bluegreen-state): %v", err)
	}
	if f, ok := st.(*fakeStore); !ok || f.table != "bluegreen-state" {
		t.Errorf("Open(dynamodb://bluegreen-state) = %#v; want the DynamoDB store on table bluegreen-state", st)
	}
	if _, err := state.Open("DynamoDB://broken", "x"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a failing constructor's error was lost: %v", err)
	}

	for _, spec := range []string{"dynamodb://", "dynamodb://ab", "dynamodb://a/b", "dynamodb://t t", "s3://bucket", "file://"} {
		if _, err := state.Open(spec, "x"); err == nil {
			t.Errorf("Open(%q) returned no error", spec)
		} else if !strings.Contains(err.Error(), spec) {
			t.Errorf("Open(%q): error %q does not quote the value", spec, err)
		}
	}
}
