package sql

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/pgtest"
	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// run is one step invocation in a test: the params given, what the step
// journaled, what it logged, and what it returned.
type run struct {
	undos []steps.Undo
	log   bytes.Buffer
	out   steps.Outputs
	err   error
}

// runStep binds raw params against kind's spec (as the engine does) and
// runs step with a call that records undos and captures the log at debug
// level. journalErr, when set, is what BeforeChange returns. When db is
// the step's fake database, the journaling is recorded among its events so
// tests can check that the undo came first.
func runStep(t *testing.T, kind string, step steps.Step, raw map[string]any, db *fakeDB, journalErr error) *run {
	t.Helper()
	spec, ok := steps.Lookup(kind)
	if !ok {
		t.Fatalf("%s is not registered", kind)
	}
	params, errs := spec.Bind(raw)
	if len(errs) > 0 {
		t.Fatalf("bind %s: %v", kind, errs)
	}
	r := &run{}
	call := &steps.Call{
		Params: params,
		Log:    zerolog.New(&r.log).Level(zerolog.DebugLevel),
		BeforeChange: func(u steps.Undo) error {
			if db != nil {
				db.note("undo")
			}
			if journalErr != nil {
				return journalErr
			}
			r.undos = append(r.undos, u)
			return nil
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r.out, r.err = step.Run(ctx, call)
	return r
}

// undoing runs a journaled undo the way a rollback does.
func undoing(t *testing.T, step steps.Step, u steps.Undo) *run {
	t.Helper()
	spec, _ := steps.Lookup(u.Kind)
	params, errs := spec.Bind(u.Params)
	if len(errs) > 0 {
		t.Fatalf("bind undo %s: %v", u.Kind, errs)
	}
	r := &run{}
	call := &steps.Call{
		Params:  params,
		Log:     zerolog.New(&r.log).Level(zerolog.DebugLevel),
		Undoing: true,
		BeforeChange: func(steps.Undo) error {
			t.Errorf("%s journaled an undo while it was itself being undone", u.Kind)
			return nil
		},
	}
	r.out, r.err = step.Run(context.Background(), call)
	return r
}

// fakeDB is a database that records calls and answers from a script.
type fakeDB struct {
	mu      sync.Mutex
	events  []string // "undo" and the calls, in order
	queries []string
	execs   []string
	args    [][]any
	// answer returns the result of a Query by SQL text.
	answer func(sql string) (*result, error)
	// execErr fails every Exec whose SQL contains the key.
	execErr map[string]error
	resets  int
}

func (f *fakeDB) note(s string) { f.events = append(f.events, s) }

func (f *fakeDB) Query(_ context.Context, sql string, args []any, _ time.Duration, _ int) (*result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, sql)
	f.args = append(f.args, args)
	f.note("query")
	if f.answer == nil {
		return &result{}, nil
	}
	return f.answer(sql)
}

func (f *fakeDB) Exec(_ context.Context, sql string, args []any, _ time.Duration) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs = append(f.execs, sql)
	f.args = append(f.args, args)
	f.note("exec: " + firstWords(sql, 2))
	for k, err := range f.execErr {
		if strings.Contains(sql, k) {
			return 0, err
		}
	}
	return 1, nil
}

func (f *fakeDB) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets++
	f.note("reset")
}

func firstWords(s string, n int) string {
	w := strings.Fields(s)
	if len(w) > n {
		w = w[:n]
	}
	return strings.Join(w, " ")
}

// fakeOpener returns an opener that hands out db for any DSN.
func fakeOpener(db *fakeDB) opener { return func(string) (database, error) { return db, nil } }

// withFake builds a step of kind k on the fake database db.
func withFake(k string, db *fakeDB) steps.Step {
	switch k {
	case "sql.query":
		return &queryStep{open: fakeOpener(db)}
	case "sql.exec":
		return &execStep{open: fakeOpener(db)}
	case "sql.read-only":
		return &readOnlyStep{open: fakeOpener(db)}
	}
	panic("no fake for " + k)
}

// realStep builds a step of kind k on the process's real pool cache.
func realStep(k string) steps.Step {
	spec, _ := steps.Lookup(k)
	return spec.New()
}

// assertNoSecret fails t when any text contains the secret.
func assertNoSecret(t *testing.T, secret string, texts map[string]string) {
	t.Helper()
	for what, text := range texts {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains the password: %s", what, text)
		}
	}
}
