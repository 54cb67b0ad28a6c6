package state_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/state"
)

// BenchmarkSave measures one durable record write (two fsyncs): the
// executor saves after every journaled undo and every finished step, so
// this bounds how fast a run can make changes.
func BenchmarkSave(b *testing.B) {
	st, err := state.NewFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	rec := bigRecord(1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Save(ctx, "web", rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	st, err := state.NewFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := st.Save(ctx, "web", bigRecord(1)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Load(ctx, "web"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	st, err := state.NewFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	host, _ := os.Hostname()
	h := state.Holder{Host: host, PID: os.Getpid(), RunID: "bench", Since: time.Now()}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Acquire(ctx, "web", h); err != nil {
			b.Fatal(err)
		}
		if err := st.Release(ctx, "web", "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
