package sql

import (
	"context"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/pgtest"
	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
	"github.com/rs/zerolog"
)

// BenchmarkQueryPoll measures one poll of a parity gate: sql.query of an
// aggregate on a real server, through the cached pool (so after the first
// iteration no connection is opened).
func BenchmarkQueryPoll(b *testing.B) {
	srv := pgtest.Shared(b)
	db := srv.NewDatabase(b)
	srv.Exec(b, db, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 10000)")
	// The step and its call are built once, outside the loop, so that the
	// loop times the poll alone.
	params := steptest.Bind(b, "sql.query", map[string]any{"dsn": srv.DSN(db), "query": "SELECT count(*) AS n, max(id) AS last FROM orders"})
	step := steptest.Spec(b, "sql.query").New()
	call := &steps.Call{Params: params, Log: zerolog.Nop(), BeforeChange: steps.NoChange}
	ctx := context.Background()
	for b.Loop() {
		out, err := step.Run(ctx, call)
		if err != nil {
			b.Fatal(err)
		}
		if out["count"] != 1 {
			b.Fatalf("count = %v", out["count"])
		}
	}
}
