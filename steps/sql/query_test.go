package sql

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

const fakeDSN = "postgres://app:fakePassw0rd@db.internal:5432/orders?sslmode=disable"

func TestSpecsDeclareTheDSNSensitive(t *testing.T) {
	for _, kind := range []string{"sql.query", "sql.exec", "sql.read-only"} {
		spec, ok := steps.Lookup(kind)
		if !ok {
			t.Fatalf("%s is not registered", kind)
		}
		if p := spec.Param("dsn"); p == nil || !p.Sensitive || !p.Required {
			t.Errorf("%s: param dsn = %+v, want required and sensitive", kind, p)
		}
		red := spec.Redacted(map[string]any{"dsn": fakeDSN})
		if red["dsn"] != steps.Redaction {
			t.Errorf("%s: Redacted kept the DSN: %v", kind, red)
		}
	}
	sync, _ := steps.Lookup("sql.sync")
	for _, name := range []string{"from", "to"} {
		if p := sync.Param(name); p == nil || !p.Sensitive {
			t.Errorf("sql.sync: param %s is not sensitive", name)
		}
	}
	if q, _ := steps.Lookup("sql.query"); q.Mutates {
		t.Error("sql.query mutates: it could not serve as a gate")
	}
	for _, kind := range []string{"sql.exec", "sql.read-only", "sql.sync"} {
		if s, _ := steps.Lookup(kind); !s.Mutates {
			t.Errorf("%s does not declare Mutates", kind)
		}
	}
}

func TestQueryBindsParams(t *testing.T) {
	spec, _ := steps.Lookup("sql.query")
	for _, tc := range []struct {
		name    string
		raw     map[string]any
		want    map[string]any
		wantErr string
	}{
		{"defaults", map[string]any{"dsn": fakeDSN, "query": "SELECT 1"},
			map[string]any{"timeout": 30 * time.Second, "max_rows": 1000}, ""},
		{"text from octopus", map[string]any{"dsn": fakeDSN, "query": "SELECT $1", "args": "[42, abc]", "timeout": "250ms", "max_rows": "5"},
			map[string]any{"args": []any{42, "abc"}, "timeout": 250 * time.Millisecond, "max_rows": 5}, ""},
		{"missing query", map[string]any{"dsn": fakeDSN}, nil, `param "query": required param is missing`},
		{"missing dsn", map[string]any{"query": "SELECT 1"}, nil, `param "dsn": required param is missing`},
		{"timeout without unit", map[string]any{"dsn": fakeDSN, "query": "SELECT 1", "timeout": 5}, nil, `param "timeout"`},
		{"unknown param", map[string]any{"dsn": fakeDSN, "query": "SELECT 1", "statement": "x"}, nil, `param "statement": unknown param`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, errs := spec.Bind(tc.raw)
			if tc.wantErr != "" {
				if len(errs) == 0 || !strings.Contains(errs[0].Error(), tc.wantErr) {
					t.Fatalf("Bind errors = %v, want one containing %q", errs, tc.wantErr)
				}
				for _, e := range errs {
					if strings.Contains(e.Error(), "fakePassw0rd") {
						t.Errorf("bind error leaks the password: %v", e)
					}
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("Bind: %v", errs)
			}
			for k, v := range tc.want {
				if !reflect.DeepEqual(p[k], v) {
					t.Errorf("param %s = %#v, want %#v", k, p[k], v)
				}
			}
		})
	}
}

func TestQueryOutputs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		res     *result
		wantRow map[string]any
		count   int
	}{
		{"rows", &result{columns: []string{"n", "name"}, rows: []map[string]any{{"n": 1, "name": "a"}, {"n": 2, "name": "b"}}},
			map[string]any{"n": 1, "name": "a"}, 2},
		{"no rows gives an empty row", &result{columns: []string{"n"}}, map[string]any{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := &fakeDB{answer: func(string) (*result, error) { return tc.res, nil }}
			r := runStep(t, "sql.query", withFake("sql.query", db), map[string]any{"dsn": fakeDSN, "query": "SELECT n, name FROM t WHERE x = $1", "args": []any{"y"}}, db, nil)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if !reflect.DeepEqual(r.out["row"], tc.wantRow) || r.out["count"] != tc.count {
				t.Errorf("outputs = %#v, want row %v and count %d", r.out, tc.wantRow, tc.count)
			}
			if rows := r.out["rows"].([]any); len(rows) != tc.count {
				t.Errorf("rows = %v, want %d", rows, tc.count)
			}
			if !reflect.DeepEqual(r.out["columns"], []any{tc.res.columns[0]}) && len(tc.res.columns) == 1 {
				t.Errorf("columns = %v", r.out["columns"])
			}
			if !reflect.DeepEqual(db.args[0], []any{"y"}) {
				t.Errorf("args passed = %#v, want [y]", db.args[0])
			}
		})
	}
}

func TestQueryErrorNamesTheDatabaseNotTheDSN(t *testing.T) {
	db := &fakeDB{answer: func(string) (*result, error) {
		return nil, errors.New("failed to connect to postgres://app:fakePassw0rd@db.internal:5432/orders: refused")
	}}
	r := runStep(t, "sql.query", withFake("sql.query", db), map[string]any{"dsn": fakeDSN, "query": "SELECT 1"}, db, nil)
	if r.err == nil {
		t.Fatal("no error")
	}
	want := "sql.query: query on app@db.internal:5432/orders: failed to connect to postgres://app:***@db.internal:5432/orders: refused"
	if r.err.Error() != want {
		t.Errorf("error = %q\nwant    %q", r.err, want)
	}
}
