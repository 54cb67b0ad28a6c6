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
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
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
	r := &run{}
	journal := func(steps.Undo) error {
		if db != nil {
			db.note("undo")
		}
		return journalErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := steptest.Run(ctx, t, kind, raw, steptest.Options{Step: step, Log: debugLog(&r.log), Journal: journal})
	r.out, r.undos, r.err = res.Out, res.Undos, res.Err
	return r
}

// undoing runs a journaled undo the way a rollback does.
func undoing(t *testing.T, step steps.Step, u steps.Undo) *run {
	t.Helper()
	r := &run{}
	journal := func(steps.Undo) error {
		t.Errorf("%s journaled an undo while it was itself being undone", u.Kind)
		return nil
	}
	res := steptest.Run(context.Background(), t, u.Kind, u.Params, steptest.Options{Step: step, Log: debugLog(&r.log), Undoing: true, Journal: journal})
	r.out, r.err = res.Out, res.Err
	return r
}

// debugLog is a step logger that writes JSON at debug level into buf.
func debugLog(buf *bytes.Buffer) zerolog.Logger {
	return zerolog.New(buf).Level(zerolog.DebugLevel)
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
