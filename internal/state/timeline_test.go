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

func TestFileStoreTimelines(t *testing.T) {
	dir := t.TempDir()
	st, err := state.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	statetest.TimelineContract(t, st)
	// Only the newest MaxHistory timelines (and their reports) are kept.
	ctx := context.Background()
	runs, _ := st.RunsDir("app")
	for i := 0; i < state.MaxHistory+3; i++ {
		id := fmt.Sprintf("20270101T%06dZ-beef", i)
		if err := os.WriteFile(filepath.Join(runs, id+".html"), []byte("r"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := st.PutTimeline(ctx, "app", id, []byte("t")); err != nil {
			t.Fatal(err)
		}
	}
	ents, _ := os.ReadDir(runs)
	if len(ents) != 2*state.MaxHistory {
		t.Errorf("%d files in %s, want %d timelines and reports", len(ents), runs, 2*state.MaxHistory)
	}
	if b, _ := st.GetTimeline(ctx, "app", "20260101T000000Z-aaaa"); b != nil {
		t.Error("the oldest timeline was not pruned")
	}
	if b, _ := st.GetTimeline(ctx, "app", fmt.Sprintf("20270101T%06dZ-beef", state.MaxHistory+2)); string(b) != "t" {
		t.Error("the newest timeline is missing")
	}
}
