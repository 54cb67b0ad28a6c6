package sql

import (
	"context"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "sql.query",
		Title:   "Query PostgreSQL",
		Summary: "Runs a read-only SQL query on a PostgreSQL database and returns its rows.",
		Doc: "The query runs in a `READ ONLY` transaction that is rolled back afterwards, so " +
			"the step cannot change data whatever SQL it is given; that is what lets it " +
			"serve as a gate (for instance, waiting until two databases report the same " +
			"row count). Arguments are bound as `$1`, `$2`, ... and are never spliced into " +
			"the SQL text.\n\n" +
			"Values come back as the types expressions compare naturally: integers (also " +
			"integral `numeric`, which `sum()` returns) as integers, other numbers as " +
			"floats, times as RFC 3339 text in UTC, `json` as lists and maps, other types " +
			"as PostgreSQL's text form. For an exact comparison of large or fractional " +
			"numbers cast them to `text` in the query.\n\n" +
			"The DSN is sensitive: errors and logs name the database as " +
			"`user@host:port/db` and never show the password.",
		Preflight: sqlReady,
		Rules: []steps.Rule{
			steps.Length("query", 1, 0),
			steps.AtLeast("max_rows", 1),
		},
		Params: []steps.Param{
			dsnParam,
			{Name: "query", Type: steps.String, Required: true,
				Doc:      "One SQL statement that returns rows. Use `$1`, `$2`, ... for arguments.",
				Examples: []any{"SELECT count(*) AS n, max(id) AS last_id FROM orders"}},
			argsParam,
			{Name: "timeout", Type: steps.Duration, Default: 30 * time.Second,
				Doc: "Statement timeout: the server cancels the query when it runs longer, and the step fails. 0 keeps the server's own statement_timeout."},
			{Name: "max_rows", Type: steps.Int, Default: 1000,
				Doc: "The most rows the query may return; more is an error, because outputs are kept in the run's journal. Aggregate in SQL instead of raising this for large tables."},
		},
		Outputs: []steps.Output{
			{Name: "rows", Type: steps.List, Doc: "Every row, as a map from column name to value."},
			{Name: "row", Type: steps.Map, Doc: "The first row as a map (empty when there is none), so a one-row query reads as `row.n`."},
			{Name: "count", Type: steps.Int, Doc: "The number of rows."},
			{Name: "columns", Type: steps.List, Doc: "The column names in the order the query returned them."},
		},
		New: func() steps.Step { return &queryStep{open: pools.open} },
	})
}

// queryStep runs sql.query.
type queryStep struct {
	open opener
}

func (s *queryStep) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	timeout := p.Duration("timeout")
	db, t, err := connect(s.open, p.String("dsn"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := withBackstop(ctx, timeout)
	defer cancel()

	start := time.Now()
	res, err := db.Query(ctx, p.String("query"), p.List("args"), timeout, p.Int("max_rows"))
	if err != nil {
		return nil, t.wrap("query", err, timeout)
	}
	call.Log.Debug().Str("db", t.name).Int("rows", len(res.rows)).Dur("took", time.Since(start)).Msg("query finished")

	rows := make([]any, len(res.rows))
	for i, r := range res.rows {
		rows[i] = r
	}
	row := map[string]any{}
	if len(res.rows) > 0 {
		row = res.rows[0]
	}
	columns := make([]any, len(res.columns))
	for i, c := range res.columns {
		columns[i] = c
	}
	return steps.Outputs{"rows": rows, "row": row, "count": len(rows), "columns": columns}, nil
}
