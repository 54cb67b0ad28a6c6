package state_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// timelineContract is what both stores must do with run timelines.
func timelineContract(t *testing.T, st state.Timelines) {
	ctx := context.Background()
	if b, err := st.GetTimeline(ctx, "app", "20260101T000000Z-aaaa"); err != nil || b != nil {
		t.Fatalf("missing timeline: %q, %v; want nil, nil", b, err)
	}
	data := []byte{0x1f, 0x8b, 0, 1, 2, 255}
	if err := st.PutTimeline(ctx, "app", "20260101T000000Z-aaaa", data); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTimeline(ctx, "other", "20260101T000000Z-aaaa", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := st.GetTimeline(ctx, "app", "20260101T000000Z-aaaa"); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("timeline %v, %v; want %v", b, err, data)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if err := st.PutTimeline(ctx, "app", bad, data); err == nil {
			t.Errorf("run id %q accepted", bad)
		}
	}
}

func TestFileStoreTimelines(t *testing.T) {
	dir := t.TempDir()
	st, err := state.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	timelineContract(t, st)
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

func TestDynamoStoreTimelines(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	m := awstest.Start(t)
	cfg := awstest.Config(m.URL)
	if err := state.CreateDynamoTable(context.Background(), cfg, "bluegreen-timelines"); err != nil {
		t.Fatal(err)
	}
	timelineContract(t, state.NewDynamoWithConfig(cfg, "bluegreen-timelines"))
}
