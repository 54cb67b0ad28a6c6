package sql

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// stateAnswer answers the step's state query with database "orders" and
// the given database settings.
func stateAnswer(settings ...any) func(string) (*result, error) {
	return func(sql string) (*result, error) {
		if sql != stateQuery {
			return nil, errors.New("unexpected query " + sql)
		}
		return &result{columns: []string{"database", "settings"}, rows: []map[string]any{{"database": "orders", "settings": settings}}}, nil
	}
}

func TestReadOnly(t *testing.T) {
	for _, tc := range []struct {
		name      string
		settings  []any
		readOnly  bool
		terminate bool
		events    []string
		stmt      string
		undo      map[string]any
	}{
		{
			name: "freeze a writable database", settings: nil, readOnly: true, terminate: true,
			events: []string{"query", "undo", "exec: BEGIN READ", "exec: WITH others", "reset"},
			stmt:   `BEGIN READ WRITE; ALTER DATABASE "orders" SET default_transaction_read_only = on; COMMIT`,
			undo:   map[string]any{"dsn": fakeDSN, "read_only": false, "terminate_sessions": true, "timeout": "30s"},
		},
		{
			name: "unfreeze a frozen database", settings: []any{"default_transaction_read_only=on"}, readOnly: false, terminate: true,
			events: []string{"query", "undo", "exec: BEGIN READ", "exec: WITH others", "reset"},
			stmt:   `BEGIN READ WRITE; ALTER DATABASE "orders" RESET default_transaction_read_only; COMMIT`,
			undo:   map[string]any{"dsn": fakeDSN, "read_only": true, "terminate_sessions": true, "timeout": "30s"},
		},
		{
			name: "freeze without ending sessions", settings: []any{"search_path=app"}, readOnly: true, terminate: false,
			events: []string{"query", "undo", "exec: BEGIN READ", "reset"},
			stmt:   `BEGIN READ WRITE; ALTER DATABASE "orders" SET default_transaction_read_only = on; COMMIT`,
			undo:   map[string]any{"dsn": fakeDSN, "read_only": false, "terminate_sessions": false, "timeout": "30s"},
		},
		{
			name: "already writable: nothing changes, no session ends", settings: nil, readOnly: false, terminate: true,
			events: []string{"query"},
		},
		{
			name: "already frozen", settings: []any{"default_transaction_read_only=true"}, readOnly: true, terminate: true,
			events: []string{"query"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := &fakeDB{answer: stateAnswer(tc.settings...)}
			r := runStep(t, "sql.read-only", withFake("sql.read-only", db), map[string]any{
				"dsn": fakeDSN, "read_only": tc.readOnly, "terminate_sessions": tc.terminate,
			}, db, nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !reflect.DeepEqual(db.events, tc.events) {
				t.Errorf("events = %v, want %v", db.events, tc.events)
			}
			changed := tc.stmt != ""
			if r.out["changed"] != changed || r.out["read_only"] != tc.readOnly || r.out["database"] != "orders" {
				t.Errorf("outputs = %v", r.out)
			}
			if !changed {
				if len(r.undos) != 0 {
					t.Errorf("journaled %v for no change", r.undos)
				}
				return
			}
			if db.execs[0] != tc.stmt {
				t.Errorf("statement = %q, want %q", db.execs[0], tc.stmt)
			}
			if len(r.undos) != 1 || r.undos[0].Kind != "sql.read-only" || !reflect.DeepEqual(r.undos[0].Params, tc.undo) {
				t.Errorf("undos = %+v, want params %v", r.undos, tc.undo)
			}
		})
	}
}

func TestReadOnlyQuotesTheDatabaseName(t *testing.T) {
	db := &fakeDB{answer: func(string) (*result, error) {
		return &result{rows: []map[string]any{{"database": `we"ird; DROP`, "settings": []any{}}}}, nil
	}}
	r := runStep(t, "sql.read-only", withFake("sql.read-only", db), map[string]any{"dsn": fakeDSN, "read_only": true}, db, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := `BEGIN READ WRITE; ALTER DATABASE "we""ird; DROP" SET default_transaction_read_only = on; COMMIT`; db.execs[0] != want {
		t.Errorf("statement = %q, want %q", db.execs[0], want)
	}
}

func TestReadOnlyChangesNothingWhenTheJournalFails(t *testing.T) {
	db := &fakeDB{answer: stateAnswer()}
	r := runStep(t, "sql.read-only", withFake("sql.read-only", db), map[string]any{"dsn": fakeDSN, "read_only": true}, db, errors.New("journal unavailable"))
	if r.err == nil || !strings.Contains(r.err.Error(), "journal unavailable") {
		t.Fatalf("err = %v", r.err)
	}
	if len(db.execs) != 0 {
		t.Errorf("changed the database without a journaled undo: %v", db.execs)
	}
}

func TestReadOnlyReportsFailedTermination(t *testing.T) {
	db := &fakeDB{answer: stateAnswer(), execErr: map[string]error{"pg_terminate_backend": errors.New("permission denied")}}
	r := runStep(t, "sql.read-only", withFake("sql.read-only", db), map[string]any{"dsn": fakeDSN, "read_only": true}, db, nil)
	if r.err == nil || !strings.Contains(r.err.Error(), "ending its other sessions failed") {
		t.Fatalf("err = %v, want the termination failure", r.err)
	}
	if len(r.undos) != 1 {
		t.Errorf("undos = %v: the freeze happened, so its undo must stay journaled", r.undos)
	}
}
