// Package e2e_aws runs the weighted-dns and alb-weighted runbooks end to
// end: the real engine, the real steps and the real AWS SDK against
// moto_server, on topologies built by internal/awstest.
package e2e_aws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/benchrun"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
	_ "github.com/bluegreen-deploy/bluegreen/steps/all"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.StopShared()
	benchrun.Remove()
	os.Exit(code)
}

// runbookPath returns the path of a runbook in the repository's runbooks/.
func runbookPath(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "runbooks", name)
}

// fast are inputs that keep the configured waiting short: moto makes
// instances healthy at once, so only the bakes and the scale-down delay
// would otherwise take time.
var fast = map[string]string{
	"bake": "300ms", "poll": "50ms", "health_timeout": "5s", "scale_down_delay": "10ms",
}

// world is one topology with its own state store.
type world struct {
	t     testing.TB
	topo  *awstest.Topology
	cnt   *awstest.Counter
	store state.Store
	book  string
	// path, when set, is the runbook file to run instead of book's.
	path string
	// key is the application's state key, for tests that read the store.
	key   string
	sinks []engine.Sink
	mu    sync.Mutex
	log   []engine.Event
	// onEvent runs for every event, to inject faults at a given moment.
	onEvent func(engine.Event)
}

func newWorld(t testing.TB, book string, o awstest.Options) *world {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	m, cnt := awstest.Shared(t)
	topo := awstest.New(t, m.URL, o)
	st, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, topo: topo, cnt: cnt, store: st, book: book}
}

// inputs are the topology's inputs for the world's runbook, with fast
// timings and the given overrides.
func (w *world) inputs(over map[string]string) map[string]any {
	base := w.topo.WeightedDNSInputs()
	if strings.HasPrefix(w.book, "alb") {
		base = w.topo.ALBInputs()
	}
	in := map[string]any{}
	for _, m := range []map[string]string{base, fast, over} {
		for k, v := range m {
			in[k] = v
		}
	}
	return in
}

// run runs the world's runbook once and returns its result or error.
func (w *world) run(over map[string]string) (*engine.Result, error) {
	w.t.Helper()
	path := w.path
	if path == "" {
		path = runbookPath(w.book)
	}
	rb, err := engine.Load(path, steps.Default)
	if err != nil {
		w.t.Fatalf("load %s: %v", w.book, err)
	}
	x := &engine.Executor{Registry: steps.Default, Store: w.store, Sinks: append([]engine.Sink{w.sink}, w.sinks...)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return x.Run(ctx, rb, w.inputs(over))
}

func (w *world) sink(e engine.Event) {
	w.mu.Lock()
	w.log = append(w.log, e)
	w.mu.Unlock()
	if w.onEvent != nil {
		w.onEvent(e)
	}
}

// events returns the events of one type seen so far.
func events[T engine.Event](w *world) []T {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []T
	for _, e := range w.log {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// dump logs the run's step and gate events, to explain a failure.
func (w *world) dump() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.log {
		switch x := e.(type) {
		case *engine.StepFinished:
			w.t.Logf("finished %s (%s) %v", x.Path, x.Kind, x.Outputs)
		case *engine.StepFailed:
			w.t.Logf("FAILED %s (%s): %s", x.Path, x.Kind, x.Error)
		case *engine.UndoApplied:
			w.t.Logf("undo %s %s %v %s", x.Path, x.Undo.Kind, x.Undo.Params, x.Error)
		case *engine.RunFinished:
			w.t.Logf("run %s live %s %s", x.Status, x.Live, x.Error)
		}
	}
}

// expect checks the weights (DNS or listener) and the two groups' sizes.
func (w *world) expect(weights map[string]int, desired map[string]int) {
	w.t.Helper()
	ctx := context.Background()
	var got map[string]int
	var err error
	if w.topo.Listener != "" {
		got, err = w.topo.ListenerWeights(ctx)
	} else {
		got, err = w.topo.DNSWeights(ctx)
	}
	if err != nil {
		w.t.Fatal(err)
	}
	for c, want := range weights {
		if got[c] != want {
			w.dump()
			w.t.Fatalf("weights %v, want %v", got, weights)
		}
	}
	for c, want := range desired {
		g, err := w.topo.Group(ctx, c)
		if err != nil {
			w.t.Fatal(err)
		}
		if g.Desired != want || len(g.Instances) != want {
			w.dump()
			w.t.Fatalf("group %s: desired %d with %d instances, want %d", c, g.Desired, len(g.Instances), want)
		}
	}
}

// mustSucceed runs and fails the test unless the run succeeds with live.
func (w *world) mustSucceed(over map[string]string, live string) {
	w.t.Helper()
	res, err := w.run(over)
	if err != nil {
		w.dump()
		w.t.Fatalf("run: %v", err)
	}
	if res.Live != live {
		w.dump()
		w.t.Fatalf("live after the run = %q, want %q", res.Live, live)
	}
}

// mustRollBack runs and fails the test unless the run fails, is rolled
// back completely, and the failure mentions want.
func (w *world) mustRollBack(over map[string]string, want string) *engine.RunFailedError {
	w.t.Helper()
	_, err := w.run(over)
	var rf *engine.RunFailedError
	if !errors.As(err, &rf) {
		w.dump()
		w.t.Fatalf("run error %v (%T), want a failed run", err, err)
	}
	if !rf.RolledBack || rf.RollbackErr != nil {
		w.dump()
		w.t.Fatalf("run failed but was not rolled back cleanly: %v / %v", rf, rf.RollbackErr)
	}
	if !strings.Contains(err.Error(), want) {
		w.dump()
		w.t.Fatalf("failure %q does not mention %q", err, want)
	}
	return rf
}

func appliedKinds(w *world) []string {
	var out []string
	for _, e := range events[*engine.StepFinished](w) {
		out = append(out, fmt.Sprintf("%s:%s", e.Path, e.Kind))
	}
	return out
}
