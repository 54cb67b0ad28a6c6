package state_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/internal/state/statetest"
)

func TestFileStoreContract(t *testing.T) {
	dir := t.TempDir()
	st := newStore(t, dir)
	statetest.StoreContract(t, st, func(key, record string) {
		if err := os.WriteFile(filepath.Join(dir, key+".json"), []byte(record), 0o644); err != nil {
			t.Fatal(err)
		}
	})
}

func TestHistoryKeepsEveryRunThatChangedSomething(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, t.TempDir())
	rec := &state.Record{}
	for i := 0; i < 3*state.MaxHistory; i++ {
		s := state.Summary{ID: fmt.Sprintf("r%03d", i), Status: state.StatusSucceeded}
		if i%2 == 0 {
			s.Changes = 1 + i%5
		}
		rec.History = append(rec.History, s)
	}
	if err := st.Save(ctx, "h", rec); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(ctx, "h")
	if err != nil {
		t.Fatal(err)
	}
	changed, quiet := 0, 0
	for _, s := range got.History {
		if s.Changes > 0 {
			changed++
		} else {
			quiet++
		}
	}
	if changed != 3*state.MaxHistory/2 || quiet != state.MaxHistory {
		t.Fatalf("history kept %d runs that changed something and %d that did not; want %d and %d", changed, quiet, 3*state.MaxHistory/2, state.MaxHistory)
	}
	if last := got.History[len(got.History)-1].ID; last != fmt.Sprintf("r%03d", 3*state.MaxHistory-1) {
		t.Fatalf("newest entry %s", last)
	}
}
