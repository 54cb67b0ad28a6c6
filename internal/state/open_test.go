package state_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
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

// fakeStore stands in for a store registered from another package.
type fakeStore struct {
	state.Store
	location string
}

var registerFake sync.Once

// TestOpenRegisteredBackends: Open finds a store by the scheme it
// registered, and this package links none but the file store (the
// DynamoDB store registers from internal/state/dynamostate).
func TestOpenRegisteredBackends(t *testing.T) {
	_, err := state.Open("dynamodb://bluegreen-state", "x")
	if err == nil || !strings.Contains(err.Error(), `unknown backend "dynamodb" (expected a directory`) || strings.Contains(err.Error(), "dynamodb://TABLE") {
		t.Errorf("Open(dynamodb://) without the DynamoDB store linked: %v; want an unknown backend error listing only the known ones", err)
	}

	// Once per process: -count=N runs the test again in it.
	registerFake.Do(func() {
		state.Register(state.Backend{Scheme: "fake", Usage: "fake://LOCATION", Open: func(location string) (state.Store, error) {
			if location == "broken" {
				return nil, errors.New("boom")
			}
			return &fakeStore{location: location}, nil
		}})
	})
	st, err := state.Open("fake://somewhere", "x")
	if err != nil {
		t.Fatalf("Open(fake://somewhere): %v", err)
	}
	if f, ok := st.(*fakeStore); !ok || f.location != "somewhere" {
		t.Errorf("Open(fake://somewhere) = %#v; want the fake store on somewhere", st)
	}
	if _, err := state.Open("FAKE://broken", "x"); err == nil || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "FAKE://broken") {
		t.Errorf("a failing constructor's error = %v; want it with the --state value", err)
	}
	_, err = state.Open("s3://bucket", "x")
	if err == nil || !strings.Contains(err.Error(), "fake://LOCATION") {
		t.Errorf("Open(s3://bucket) = %v; want the error to list the registered fake://LOCATION", err)
	}

	for _, spec := range []string{"s3://bucket", "file://"} {
		if _, err := state.Open(spec, "x"); err == nil {
			t.Errorf("Open(%q) returned no error", spec)
		} else if !strings.Contains(err.Error(), spec) {
			t.Errorf("Open(%q): error %q does not quote the value", spec, err)
		}
	}

	for name, b := range map[string]state.Backend{
		"taken scheme":  {Scheme: "fake", Usage: "fake://X", Open: func(string) (state.Store, error) { return nil, nil }},
		"upper case":    {Scheme: "Other", Usage: "Other://X", Open: func(string) (state.Store, error) { return nil, nil }},
		"no open":       {Scheme: "other", Usage: "other://X"},
		"no usage text": {Scheme: "other", Open: func(string) (state.Store, error) { return nil, nil }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register with a %s did not panic", name)
				}
			}()
			state.Register(b)
		}()
	}
}
