package sql

import (
	"context"
	"fmt"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "sql.exec",
		Title:   "Run a SQL statement",
		Summary: "Runs a SQL statement that changes a PostgreSQL database, journaling an undo statement first when one is given.",
		Doc: "The statement runs outside any transaction block, so statements that refuse " +
			"one (CREATE INDEX CONCURRENTLY, VACUUM) work; wrap several statements in " +
			"`BEGIN; ...; COMMIT;` (possible when there are no args) to make them atomic.\n\n" +
			"bluegreen cannot derive the reverse of arbitrary SQL, so give it: `undo` is " +
			"journaled before the statement runs and is run by a rollback as another " +
			"sql.exec on the same database. Write it so that running it twice, or running " +
			"it when the statement never ran, is harmless (`DROP TABLE IF EXISTS`, an " +
			"`UPDATE` that sets absolute values). To freeze writes use sql.read-only, " +
			"which reads the previous state itself.\n\n" +
			"The DSN is sensitive: errors and logs name the database as " +
			"`user@host:port/db`, and the statement text is not logged.",
		Preflight: sqlReady,
		Rules: []steps.Rule{
			steps.Length("statement", 1, 0),
			steps.Requires("undo_args", "undo"),
		},
		Params: []steps.Param{
			dsnParam,
			{Name: "statement", Type: steps.String, Required: true,
				Doc:      "The SQL to run. Use `$1`, `$2`, ... for arguments.",
				Examples: []any{"UPDATE feature_flags SET enabled = $1 WHERE name = 'checkout_v2'"}},
			argsParam,
			{Name: "undo", Type: steps.String,
				Doc:      "A statement that reverses this one, run by a rollback. It must be safe to run twice and safe to run when the statement did not run.",
				Examples: []any{"UPDATE feature_flags SET enabled = false WHERE name = 'checkout_v2'"}},
			{Name: "undo_args", Type: steps.List,
				Doc: "Values for the placeholders of `undo`."},
			{Name: "timeout", Type: steps.Duration, Default: time.Minute,
				Doc: "Statement timeout: the server cancels the statement when it runs longer, and the step fails. 0 keeps the server's own statement_timeout. The undo runs with the same timeout."},
		},
		Outputs: []steps.Output{
			{Name: "rows_affected", Type: steps.Int, Doc: "Rows inserted, updated or deleted (for several statements, those of the last one)."},
		},
		Mutates: true,
		New:     func() steps.Step { return &execStep{open: pools.open} },
	})
}

// execStep runs sql.exec.
type execStep struct {
	open opener
}

func (s *execStep) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	timeout := p.Duration("timeout")
	db, t, err := connect(s.open, p.String("dsn"))
	if err != nil {
		return nil, err
	}

	if p.String("undo") != "" && !call.Undoing {
		up := map[string]any{
			"dsn":       p.String("dsn"),
			"statement": p.String("undo"),
			"timeout":   timeout,
		}
		if args := p.List("undo_args"); args != nil {
			up["args"] = args
		}
		err := call.BeforeChange(steps.Undo{Kind: "sql.exec", Params: up, Note: "run the undo statement on " + t.name})
		if err != nil {
			return nil, fmt.Errorf("journal undo for %s: %w", t.name, err)
		}
	}

	ctx, cancel := withBackstop(ctx, timeout)
	defer cancel()
	start := time.Now()
	n, err := db.Exec(ctx, p.String("statement"), p.List("args"), timeout)
	if err != nil {
		return nil, t.wrap("exec", err, timeout)
	}
	call.Log.Debug().Str("db", t.name).Int64("rows_affected", n).Dur("took", time.Since(start)).Msg("statement finished")
	return steps.Outputs{"rows_affected": int(n)}, nil
}
