package sql

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/pgtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// These tests run the steps against a real PostgreSQL server started by
// internal/pgtest (skipped when PostgreSQL is not installed, failed under
// CI=true).

func TestQueryAgainstPostgres(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	srv.Exec(t, db, `CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2), placed timestamptz, tags jsonb);
		INSERT INTO orders VALUES (1, 10.50, '2026-01-02 03:04:05+00', '{"a": [1]}'), (2, 4.00, '2026-01-03 00:00:00+00', null), (3, 1, now(), null)`)

	r := runStep(t, "sql.query", realStep("sql.query"), map[string]any{
		"dsn":   srv.DSN(db),
		"query": "SELECT count(*) AS n, sum(id) AS ids, max(total) AS top FROM orders WHERE id >= $1",
		// Octopus hands values over as text; the server infers $1's type.
		"args": "['2']",
	}, nil, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := map[string]any{"n": 2, "ids": 5, "top": 4}; !reflect.DeepEqual(r.out["row"], want) {
		t.Errorf("row = %#v, want %#v", r.out["row"], want)
	}
	if r.out["count"] != 1 || !reflect.DeepEqual(r.out["columns"], []any{"n", "ids", "top"}) {
		t.Errorf("count = %v, columns = %v", r.out["count"], r.out["columns"])
	}

	r = runStep(t, "sql.query", realStep("sql.query"), map[string]any{
		"dsn": srv.DSN(db), "query": "SELECT id, total, placed, tags FROM orders WHERE id = $1", "args": []any{1},
	}, nil, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := map[string]any{"id": 1, "total": 10.5, "placed": "2026-01-02T03:04:05Z", "tags": map[string]any{"a": []any{float64(1)}}}
	if !reflect.DeepEqual(r.out["row"], want) {
		t.Errorf("row = %#v, want %#v", r.out["row"], want)
	}

	r = runStep(t, "sql.query", realStep("sql.query"), map[string]any{"dsn": srv.DSN(db), "query": "SELECT id FROM orders", "max_rows": 2}, nil, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "more than max_rows (2)") {
		t.Errorf("err = %v, want the max_rows error", r.err)
	}
}

func TestQueryCannotWrite(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	srv.Exec(t, db, "CREATE TABLE t (n int)")
	r := runStep(t, "sql.query", realStep("sql.query"), map[string]any{"dsn": srv.DSN(db), "query": "INSERT INTO t VALUES (1) RETURNING n"}, nil, nil)
	var e *Error
	if !errors.As(r.err, &e) || e.Code != "25006" {
		t.Fatalf("err = %v, want SQLSTATE 25006 (read-only transaction)", r.err)
	}
	if n := srv.QueryInt(t, db, "SELECT count(*) FROM t"); n != 0 {
		t.Errorf("sql.query wrote %d rows", n)
	}
}

func TestStatementTimeoutIsHonoured(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	for _, kind := range []string{"sql.query", "sql.exec"} {
		t.Run(kind, func(t *testing.T) {
			key := map[string]string{"sql.query": "query", "sql.exec": "statement"}[kind]
			r := runStep(t, kind, realStep(kind), map[string]any{"dsn": srv.DSN(db), key: "SELECT pg_sleep(30)", "timeout": "300ms"}, nil, nil)
			var e *Error
			if !errors.As(r.err, &e) || e.Code != "57014" {
				t.Fatalf("err = %v, want the server's statement timeout (SQLSTATE 57014)", r.err)
			}
			if !strings.Contains(r.err.Error(), "statement timed out after 300ms") {
				t.Errorf("err = %q, want it to say the statement timed out after 300ms", r.err)
			}
		})
	}
	// The timeout is per call: the pooled session must not keep it.
	r := runStep(t, "sql.exec", realStep("sql.exec"), map[string]any{"dsn": srv.DSN(db), "statement": "SELECT pg_sleep(0.5)", "timeout": "0s"}, nil, nil)
	if r.err != nil {
		t.Errorf("a call without a timeout inherited an earlier one: %v", r.err)
	}
}

func TestExecAndItsUndo(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	srv.Exec(t, db, "CREATE TABLE flags (name text PRIMARY KEY, enabled bool NOT NULL)")
	srv.Exec(t, db, "INSERT INTO flags VALUES ('v2', false), ('v3', false)")

	step := realStep("sql.exec")
	r := runStep(t, "sql.exec", step, map[string]any{
		"dsn":       srv.DSN(db),
		"statement": "UPDATE flags SET enabled = $1 WHERE name LIKE $2",
		"args":      []any{"true", "v%"},
		"undo":      "UPDATE flags SET enabled = false WHERE name LIKE $1",
		"undo_args": []any{"v%"},
	}, nil, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.out["rows_affected"] != 2 {
		t.Errorf("rows_affected = %#v, want 2", r.out["rows_affected"])
	}
	if n := srv.QueryInt(t, db, "SELECT count(*) FROM flags WHERE enabled"); n != 2 {
		t.Fatalf("enabled = %d after the statement, want 2", n)
	}
	// The journal is JSON: the undo must survive the round trip.
	raw, err := json.Marshal(r.undos[0])
	if err != nil {
		t.Fatal(err)
	}
	var u struct {
		Kind   string
		Params map[string]any
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatal(err)
	}
	r.undos[0].Params = u.Params
	for i := 0; i < 2; i++ { // running an undo twice is harmless
		if res := undoing(t, step, r.undos[0]); res.err != nil {
			t.Fatalf("undo %d: %v", i+1, res.err)
		}
	}
	if n := srv.QueryInt(t, db, "SELECT count(*) FROM flags WHERE enabled"); n != 0 {
		t.Errorf("enabled = %d after the undo, want 0", n)
	}
}

func TestExecRunsSeveralStatements(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	r := runStep(t, "sql.exec", realStep("sql.exec"), map[string]any{
		"dsn":       srv.DSN(db),
		"statement": "BEGIN; CREATE TABLE a (n int); CREATE TABLE b (n int); COMMIT;",
	}, nil, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if n := srv.QueryInt(t, db, "SELECT count(*) FROM pg_tables WHERE tablename IN ('a', 'b')"); n != 2 {
		t.Errorf("tables = %d, want 2", n)
	}
}

// TestReadOnlyFreezesOpenSessions is the behaviour the env-swap strategy
// relies on: an application connected before the freeze can no longer
// write once it has reconnected, and can again after the undo.
func TestReadOnlyFreezesOpenSessions(t *testing.T) {
	srv := pgtest.Shared(t)
	db := srv.NewDatabase(t)
	srv.Exec(t, db, "CREATE TABLE t (n int)")
	ctx := t.Context()

	app, err := pgx.Connect(ctx, srv.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close(ctx)
	if _, err := app.Exec(ctx, "INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// This process's own pool has a session too, opened before the freeze.
	if r := runStep(t, "sql.exec", realStep("sql.exec"), map[string]any{"dsn": srv.DSN(db), "statement": "INSERT INTO t VALUES (2)"}, nil, nil); r.err != nil {
		t.Fatal(r.err)
	}

	step := realStep("sql.read-only")
	r := runStep(t, "sql.read-only", step, map[string]any{"dsn": srv.DSN(db), "read_only": true}, nil, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.out["changed"] != true || r.out["previous"] != false || r.out["database"] != db {
		t.Errorf("outputs = %v", r.out)
	}
	if n, _ := r.out["sessions_terminated"].(int); n < 1 {
		t.Errorf("sessions_terminated = %v, want at least the application's session", r.out["sessions_terminated"])
	}
	if _, err := app.Exec(ctx, "INSERT INTO t VALUES (3)"); err == nil {
		t.Fatal("the application's old session could still write after the freeze")
	}
	app2, err := pgx.Connect(ctx, srv.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer app2.Close(ctx)
	assertReadOnly(t, app2.Exec, "a new application session")
	w := runStep(t, "sql.exec", realStep("sql.exec"), map[string]any{"dsn": srv.DSN(db), "statement": "INSERT INTO t VALUES (4)"}, nil, nil)
	var e *Error
	if !errors.As(w.err, &e) || e.Code != "25006" {
		t.Errorf("sql.exec on the frozen database: err = %v, want SQLSTATE 25006", w.err)
	}

	// Freezing again changes nothing and ends no session.
	again := runStep(t, "sql.read-only", step, map[string]any{"dsn": srv.DSN(db), "read_only": true}, nil, nil)
	if again.err != nil || again.out["changed"] != false || len(again.undos) != 0 {
		t.Errorf("second freeze: err = %v, outputs = %v, undos = %v", again.err, again.out, again.undos)
	}
	if _, err := app2.Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("a no-op freeze ended a session: %v", err)
	}

	// The journaled undo makes it writable again, for sessions open
	// during the freeze too.
	if u := undoing(t, step, r.undos[0]); u.err != nil || u.out["read_only"] != false {
		t.Fatalf("undo: err = %v, outputs = %v", u.err, u.out)
	}
	app3, err := pgx.Connect(ctx, srv.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer app3.Close(ctx)
	if _, err := app3.Exec(ctx, "INSERT INTO t VALUES (5)"); err != nil {
		t.Errorf("insert after the undo: %v", err)
	}
	if w := runStep(t, "sql.exec", realStep("sql.exec"), map[string]any{"dsn": srv.DSN(db), "statement": "INSERT INTO t VALUES (6)"}, nil, nil); w.err != nil {
		t.Errorf("sql.exec after the undo: %v", w.err)
	}
	if n := srv.QueryInt(t, db, "SELECT count(*) FROM t"); n != 4 {
		t.Errorf("rows = %d, want 4 (1, 2, 5, 6)", n)
	}
}

func assertReadOnly(t *testing.T, exec func(context.Context, string, ...any) (pgconn.CommandTag, error), who string) {
	t.Helper()
	_, err := exec(t.Context(), "INSERT INTO t VALUES (99)")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "25006" {
		t.Errorf("%s: insert err = %v, want SQLSTATE 25006 (read-only transaction)", who, err)
	}
}

func TestSyncCopiesTheDatabase(t *testing.T) {
	srv := pgtest.Shared(t)
	from, to := srv.NewDatabase(t), srv.NewDatabase(t)
	srv.Exec(t, from, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 500)")
	srv.Exec(t, to, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (-1); CREATE TABLE stale (n int)")
	// The source may be frozen: pg_dump only reads.
	srv.Exec(t, "postgres", "ALTER DATABASE "+from+" SET default_transaction_read_only = on")

	script, _ := filepath.Abs("testdata/sync.sh")
	r := runStep(t, "sql.sync", realStep("sql.sync"), map[string]any{
		"command": []any{script, "{from}", "{to}"},
		"from":    srv.DSN(from),
		"to":      srv.DSN(to),
		"env":     map[string]any{"PATH": srv.BinDir + ":" + os.Getenv("PATH")},
	}, nil, nil)
	if r.err != nil {
		t.Fatalf("%v\n%v", r.err, r.out)
	}
	if n := srv.QueryInt(t, to, "SELECT count(*) FROM orders WHERE id > 0"); n != 500 {
		t.Errorf("copied rows = %d, want 500", n)
	}
	if n := srv.QueryInt(t, to, "SELECT count(*) FROM orders WHERE id < 0"); n != 0 {
		t.Errorf("the target kept %d of its own rows", n)
	}
	if r.out["exit_code"] != 0 {
		t.Errorf("exit_code = %v", r.out["exit_code"])
	}
}

func TestSyncRefusesToCopyADatabaseOntoItself(t *testing.T) {
	dsn := "postgres://app:pw@db.internal:5432/orders"
	same := "host=db.internal port=5432 user=app password=pw dbname=orders"
	r := runStep(t, "sql.sync", realStep("sql.sync"), map[string]any{"command": []any{"true"}, "from": dsn, "to": same}, nil, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "same database") {
		t.Fatalf("err = %v, want a refusal", r.err)
	}
}

// TestNoPasswordInErrorsOutputsOrLogs drives every step into success and
// into the failures a release meets (wrong password, missing database, bad
// SQL, timeout, a sync command that prints its arguments) and searches
// every error, output, undo note and log line for the password.
func TestNoPasswordInErrorsOutputsOrLogs(t *testing.T) {
	srv := pgtest.Shared(t)
	db, other := srv.NewDatabase(t), srv.NewDatabase(t)
	srv.Exec(t, db, "CREATE TABLE t (n int)")
	dsn := srv.DSN(db)
	wrongPassword := strings.Replace(dsn, srv.Password, srv.Password+"x", 1)
	noSuchDB := srv.DSN("no_such_database")
	kvForm := "host=127.0.0.1 port=" + strconv.Itoa(srv.Port) + " user=postgres password=" + srv.Password + " dbname=" + db + " sslmode=disable"
	badPort := strings.Replace(dsn, ":"+strconv.Itoa(srv.Port), ":notaport", 1)
	printArgs := []any{"sh", "-c", `echo "copying $1 to $2"; echo "env $BLUEGREEN_SYNC_FROM" >&2; exit 3`, "sh", "{from}", "{to}"}

	cases := []struct {
		kind    string
		params  map[string]any
		wantErr bool
	}{
		{"sql.query", map[string]any{"dsn": dsn, "query": "SELECT 1 AS one"}, false},
		{"sql.query", map[string]any{"dsn": kvForm, "query": "SELECT 1 AS one"}, false},
		{"sql.query", map[string]any{"dsn": wrongPassword, "query": "SELECT 1"}, true},
		{"sql.query", map[string]any{"dsn": noSuchDB, "query": "SELECT 1"}, true},
		{"sql.query", map[string]any{"dsn": badPort, "query": "SELECT 1"}, true},
		{"sql.query", map[string]any{"dsn": dsn, "query": "SELEC oops"}, true},
		{"sql.query", map[string]any{"dsn": dsn, "query": "SELECT pg_sleep(5)", "timeout": "100ms"}, true},
		{"sql.exec", map[string]any{"dsn": dsn, "statement": "INSERT INTO t VALUES (1)", "undo": "DELETE FROM t"}, false},
		{"sql.exec", map[string]any{"dsn": wrongPassword, "statement": "INSERT INTO t VALUES (1)", "undo": "DELETE FROM t"}, true},
		{"sql.exec", map[string]any{"dsn": dsn, "statement": "INSERT INTO missing VALUES (1)"}, true},
		{"sql.read-only", map[string]any{"dsn": dsn, "read_only": true}, false},
		{"sql.read-only", map[string]any{"dsn": dsn, "read_only": false}, false},
		{"sql.read-only", map[string]any{"dsn": wrongPassword, "read_only": true}, true},
		{"sql.sync", map[string]any{"command": printArgs, "from": dsn, "to": srv.DSN(other)}, true},
		{"sql.sync", map[string]any{"command": []any{"/no/such/program", "{from}"}, "from": dsn, "to": srv.DSN(other)}, true},
	}
	for _, tc := range cases {
		r := runStep(t, tc.kind, realStep(tc.kind), tc.params, nil, nil)
		if (r.err != nil) != tc.wantErr {
			t.Errorf("%s %v: err = %v, want error: %v", tc.kind, tc.params, r.err, tc.wantErr)
		}
		outs, _ := json.Marshal(r.out)
		texts := map[string]string{"log": r.log.String(), "outputs": string(outs)}
		if r.err != nil {
			texts["error"] = r.err.Error()
			for e := errors.Unwrap(r.err); e != nil; e = errors.Unwrap(e) {
				texts["wrapped error"] += e.Error() + "\n"
			}
		}
		for _, u := range r.undos {
			texts["undo note"] += u.Note
		}
		assertNoSecret(t, srv.Password, texts)
		assertNoSecret(t, pgtest.PasswordMarker, texts)
		if t.Failed() {
			t.Logf("%s: %v", tc.kind, texts)
		}
	}
}
