package sql

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestExecJournalsTheUndoBeforeTheStatement(t *testing.T) {
	db := &fakeDB{}
	r := runStep(t, "sql.exec", withFake("sql.exec", db), map[string]any{
		"dsn":       fakeDSN,
		"statement": "UPDATE flags SET on = $1 WHERE name = $2",
		"args":      []any{true, "v2"},
		"undo":      "UPDATE flags SET on = $1 WHERE name = $2",
		"undo_args": []any{false, "v2"},
		"timeout":   "10s",
	}, db, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if want := []string{"undo", "exec: UPDATE flags"}; !reflect.DeepEqual(db.events, want) {
		t.Errorf("events = %v, want %v", db.events, want)
	}
	if len(r.undos) != 1 {
		t.Fatalf("undos = %v, want one", r.undos)
	}
	u := r.undos[0]
	want := map[string]any{"dsn": fakeDSN, "statement": "UPDATE flags SET on = $1 WHERE name = $2", "args": []any{false, "v2"}, "timeout": "10s"}
	if u.Kind != "sql.exec" || !reflect.DeepEqual(u.Params, want) {
		t.Errorf("undo = %+v, want kind sql.exec params %v", u, want)
	}
	if strings.Contains(u.Note, "fakePassw0rd") || !strings.Contains(u.Note, "app@db.internal:5432/orders") {
		t.Errorf("undo note = %q, want the redacted database name", u.Note)
	}
	if r.out["rows_affected"] != 1 {
		t.Errorf("rows_affected = %#v", r.out["rows_affected"])
	}
}

func TestExecWithoutUndoJournalsNothing(t *testing.T) {
	db := &fakeDB{}
	r := runStep(t, "sql.exec", withFake("sql.exec", db), map[string]any{"dsn": fakeDSN, "statement": "VACUUM"}, db, nil)
	if r.err != nil || len(r.undos) != 0 {
		t.Fatalf("err = %v, undos = %v; want no error and no undo", r.err, r.undos)
	}
}

func TestExecDoesNotRunWhenTheJournalFails(t *testing.T) {
	db := &fakeDB{}
	r := runStep(t, "sql.exec", withFake("sql.exec", db), map[string]any{"dsn": fakeDSN, "statement": "DROP TABLE t", "undo": "SELECT 1"}, db, errors.New("disk full"))
	if r.err == nil || !strings.Contains(r.err.Error(), "disk full") {
		t.Fatalf("err = %v, want the journal error", r.err)
	}
	if len(db.execs) != 0 {
		t.Errorf("the statement ran although its undo was not journaled: %v", db.execs)
	}
}

func TestExecAsUndoRunsTheStatementAndJournalsNothing(t *testing.T) {
	db := &fakeDB{}
	step := withFake("sql.exec", db)
	r := runStep(t, "sql.exec", step, map[string]any{"dsn": fakeDSN, "statement": "CREATE TABLE t (n int)", "undo": "DROP TABLE IF EXISTS t"}, db, nil)
	if r.err != nil {
		t.Fatal(r.err)
	}
	u := undoing(t, step, r.undos[0])
	if u.err != nil {
		t.Fatal(u.err)
	}
	if want := []string{"CREATE TABLE t (n int)", "DROP TABLE IF EXISTS t"}; !reflect.DeepEqual(db.execs, want) {
		t.Errorf("statements = %v, want %v", db.execs, want)
	}
}

func TestExecErrorIsScrubbed(t *testing.T) {
	db := &fakeDB{execErr: map[string]error{"INSERT": errors.New("server said fakePassw0rd is wrong")}}
	r := runStep(t, "sql.exec", withFake("sql.exec", db), map[string]any{"dsn": fakeDSN, "statement": "INSERT INTO t VALUES (1)"}, db, nil)
	if r.err == nil {
		t.Fatal("no error")
	}
	if want := "sql.exec: exec on app@db.internal:5432/orders: server said *** is wrong"; r.err.Error() != want {
		t.Errorf("error = %q\nwant    %q", r.err, want)
	}
}
