package sql

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/jackc/pgx/v5"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "sql.read-only",
		Title:   "Freeze or unfreeze a PostgreSQL database",
		Summary: "Makes a PostgreSQL database read-only (or writable again) for every session, and journals the previous state as the undo.",
		Doc: "Freezing sets the database's `default_transaction_read_only` to on " +
			"(`ALTER DATABASE ... SET`); unfreezing removes that setting (`ALTER DATABASE " +
			"... RESET`), so the server's and roles' own defaults apply again. A database " +
			"default only reaches new sessions, so the step then ends every other client " +
			"session on the database (`pg_terminate_backend`, waiting up to five seconds " +
			"for each to go) unless `terminate_sessions` is false: the application's pool " +
			"reconnects and from then on gets `cannot execute INSERT in a read-only " +
			"transaction` instead of writing rows that a final sync would miss.\n\n" +
			"When the database is already in the requested state the step changes " +
			"nothing and ends no session, so making a database that is already writable " +
			"writable never disturbs live traffic. Otherwise the previous state is " +
			"journaled before the change, and a rollback restores it.\n\n" +
			"The freeze stops well-behaved clients, not a determined one: a session may " +
			"still run `SET default_transaction_read_only = off`. The DSN's user must own " +
			"the database (or be a superuser) and, to end sessions of other roles, be a " +
			"member of `pg_signal_backend`. Needs PostgreSQL 14 or later.",
		Preflight: sqlReady,
		Params: []steps.Param{
			dsnParam,
			{Name: "read_only", Type: steps.Bool, Required: true,
				Doc: "true freezes the database the DSN names; false makes it writable again."},
			{Name: "terminate_sessions", Type: steps.Bool, Default: true,
				Doc: "End the other sessions on the database after a change, so that they reconnect with the new default. Turn off only when every client reconnects by itself."},
			{Name: "timeout", Type: steps.Duration, Default: 30 * time.Second,
				Doc: "Statement timeout for each statement the step runs."},
		},
		Outputs: []steps.Output{
			{Name: "database", Type: steps.String, Doc: "The name of the database (not the DSN)."},
			{Name: "read_only", Type: steps.Bool, Doc: "Whether the database is frozen now."},
			{Name: "previous", Type: steps.Bool, Doc: "Whether it was frozen before the step."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the step changed the setting."},
			{Name: "sessions_terminated", Type: steps.Int, Doc: "How many other sessions the step ended."},
		},
		Mutates: true,
		New:     func() steps.Step { return &readOnlyStep{open: pools.open} },
	})
}

// readOnlyStep runs sql.read-only.
type readOnlyStep struct {
	open opener
}

// stateQuery reads the current database's name and its own (database-wide,
// not per-role) settings.
const stateQuery = `SELECT d.datname AS database,
       coalesce((SELECT s.setconfig FROM pg_db_role_setting s
                 WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}') AS settings
FROM pg_database d WHERE d.datname = current_database()`

// terminateQuery ends every other client session on the current database.
// The CTE is materialized so that the session filter is applied before
// pg_terminate_backend runs: in a plain WHERE clause PostgreSQL may
// evaluate the conditions in any order and could end this very session.
const terminateQuery = `WITH others AS MATERIALIZED (
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend')
SELECT pid FROM others WHERE pg_terminate_backend(pid, 5000)`

func (s *readOnlyStep) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	dsn := p.String("dsn")
	want := p.Bool("read_only")
	timeout := p.Duration("timeout")
	db, t, err := connect(s.open, dsn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withBackstop(ctx, 3*timeout)
	defer cancel()

	res, err := db.Query(ctx, stateQuery, nil, timeout, 1)
	if err != nil {
		return nil, fmt.Errorf("read the current setting: %w", t.wrap("query", err, timeout))
	}
	if len(res.rows) != 1 {
		return nil, fmt.Errorf("read the current setting on %s: the database was not found in pg_database", t.name)
	}
	name, _ := res.rows[0]["database"].(string)
	was := frozen(res.rows[0]["settings"])
	out := steps.Outputs{"database": name, "read_only": was, "previous": was, "changed": false, "sessions_terminated": 0}
	if was == want {
		call.Log.Debug().Str("db", t.name).Bool("read_only", was).Msg("database already in the requested state")
		return out, nil
	}

	if !call.Undoing {
		err := call.BeforeChange(steps.Undo{
			Kind: "sql.read-only",
			Params: map[string]any{
				"dsn":                dsn,
				"read_only":          was,
				"terminate_sessions": p.Bool("terminate_sessions"),
				"timeout":            timeout,
			},
			Note: fmt.Sprintf("make %s %s again", t.name, describe(was)),
		})
		if err != nil {
			return nil, fmt.Errorf("journal undo for %s: %w", t.name, err)
		}
	}

	// The explicit READ WRITE transaction matters when unfreezing: a
	// session opened on a frozen database is read-only by default, and
	// ALTER DATABASE counts as a write.
	stmt := "BEGIN READ WRITE; ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " RESET default_transaction_read_only; COMMIT"
	if want {
		stmt = "BEGIN READ WRITE; ALTER DATABASE " + pgx.Identifier{name}.Sanitize() + " SET default_transaction_read_only = on; COMMIT"
	}
	if _, err := db.Exec(ctx, stmt, nil, timeout); err != nil {
		return nil, fmt.Errorf("make the database %s: %w", describe(want), t.wrap("exec", err, timeout))
	}
	out["read_only"], out["changed"] = want, true

	if p.Bool("terminate_sessions") {
		n, err := db.Exec(ctx, terminateQuery, nil, timeout)
		if err != nil {
			return out, fmt.Errorf("the database is %s but ending its other sessions failed, so they may still see the old setting: %w", describe(want), t.wrap("exec", err, timeout))
		}
		out["sessions_terminated"] = int(n)
	}
	// This process's own pooled sessions also started with the old
	// default (or were just ended above); later steps must get new ones.
	db.Reset()
	call.Log.Info().Str("db", t.name).Bool("read_only", want).Int("sessions_terminated", out["sessions_terminated"].(int)).Msg("database " + describe(want))
	return out, nil
}

func describe(readOnly bool) string {
	if readOnly {
		return "read-only"
	}
	return "writable"
}

// frozen reports whether a pg_db_role_setting array turns
// default_transaction_read_only on. Settings are stored as name=value with
// the value as the user wrote it, so every spelling of true counts.
func frozen(settings any) bool {
	list, _ := settings.([]any)
	for _, item := range list {
		s, _ := item.(string)
		name, value, ok := strings.Cut(s, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "default_transaction_read_only") {
			continue
		}
		// PostgreSQL's boolean parser also takes unique prefixes of true
		// and yes, so those are what a hand-written ALTER may have stored.
		switch strings.ToLower(strings.Trim(strings.TrimSpace(value), `'"`)) {
		case "on", "true", "yes", "1", "t", "tr", "tru", "y", "ye":
			return true
		}
		return false
	}
	return false
}
