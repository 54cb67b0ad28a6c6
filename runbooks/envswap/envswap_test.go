// Package envswap holds the end-to-end tests of runbooks/env-swap.yaml: the
// real engine runs the runbook against moto (Route53, ELBv2, Auto Scaling),
// two databases on a throwaway PostgreSQL server and the in-memory Octopus
// server, and the tests check what each of those holds afterwards.
package envswap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/pgtest"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

func TestMain(m *testing.M) {
	code := m.Run()
	awstest.StopShared()
	pgtest.StopShared()
	os.Exit(code)
}

// parityQuery is what the tests compare: how many orders, and the newest.
const parityQuery = "SELECT count(*) AS n, coalesce(max(id), 0) AS last FROM orders"

// world is one blue/green deployment: a moto topology with both stacks
// running and a production and a pre-production CNAME, one database per
// colour, and an Octopus project whose targets sit in Production (blue)
// and Pre-Production (green).
type world struct {
	t        testing.TB
	topo     *awstest.Topology
	r53      *route53.Client
	prod     string // the production name
	preprod  string // the pre-production name
	pg       *pgtest.Server
	db       map[string]string // colour → database name
	oct      *octopustest.Server
	space    string
	project  string
	envs     map[string]string // environment name → id
	machines map[string]string // colour → target id
	stateDir string
	store    state.Store
	inputs   map[string]any
	// phase, when set, runs only that phase (pipeline_test.go).
	phase string

	mu   sync.Mutex
	logs bytes.Buffer // every log line of every run (engine and steps), JSON
	// texts are the events and errors of every run, for the leak check.
	texts []string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	pg := pgtest.Shared(t)
	moto, _ := awstest.Shared(t)
	w := &world{t: t, pg: pg, db: map[string]string{}, envs: map[string]string{}, machines: map[string]string{}}
	w.topo = awstest.New(t, moto.URL, awstest.Options{})
	cfg := awstest.Config(moto.URL)
	w.r53 = route53.NewFromConfig(cfg)
	ctx := t.Context()

	// In env-swap both stacks run all the time: pre-prod is where the next
	// release is tested.
	green := w.topo.Stacks["green"]
	if _, err := autoscaling.NewFromConfig(cfg).UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(green.ASG), DesiredCapacity: awssdk.Int32(int32(w.topo.Capacity)),
	}); err != nil {
		t.Fatalf("scale green: %v", err)
	}
	w.prod, w.preprod = "www."+w.topo.ZoneName, "preprod."+w.topo.ZoneName
	w.setCNAMEs(map[string]string{w.prod: w.topo.Stacks["blue"].DNS, w.preprod: green.DNS})

	for _, c := range []string{"blue", "green"} {
		w.db[c] = pg.NewDatabase(t)
		pg.Exec(t, w.db[c], "CREATE TABLE orders (id bigint PRIMARY KEY, note text NOT NULL)")
	}
	pg.Exec(t, w.db["blue"], "INSERT INTO orders SELECT i, 'order ' || i FROM generate_series(1, 200) i")
	pg.Exec(t, w.db["green"], "INSERT INTO orders SELECT i, 'stale ' || i FROM generate_series(1, 10) i")
	// sync.sh runs pg_dump and psql; Debian keeps the versioned ones off PATH.
	t.Setenv("PATH", pg.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))

	w.oct = octopustest.New(t)
	t.Setenv(octopus.EnvURL, w.oct.URL)
	t.Setenv(octopus.EnvAPIKey, w.oct.APIKey)
	t.Setenv(octopus.EnvSpace, "")
	w.space = octopustest.DefaultSpaceID
	w.project = w.oct.AddProject(w.space, "Web")
	for _, e := range []string{"Production", "Pre-Production"} {
		w.envs[e] = w.oct.AddEnvironment(w.space, e)
	}
	w.machines["blue"] = w.oct.AddMachine(w.space, octopustest.Machine{Name: "web-blue-1", Roles: []string{"web-blue"}, EnvironmentIDs: []string{w.envs["Production"]}})
	w.machines["green"] = w.oct.AddMachine(w.space, octopustest.Machine{Name: "web-green-1", Roles: []string{"web-green"}, EnvironmentIDs: []string{w.envs["Pre-Production"]}})
	w.oct.SetVariables(w.space, w.project, []octopustest.Variable{{Name: "BlueGreen.Live", Value: "blue", Environments: []string{w.envs["Production"]}}})

	w.stateDir = t.TempDir()
	st, err := state.NewFileStore(w.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	w.store = st
	script, _ := filepath.Abs("testdata/sync.sh")
	w.inputs = map[string]any{
		"zone_id":             w.topo.ZoneID,
		"record":              w.prod,
		"preprod_record":      w.preprod,
		"blue_dns":            w.topo.Stacks["blue"].DNS,
		"green_dns":           green.DNS,
		"blue_target_group":   w.topo.Stacks["blue"].TargetGroup,
		"green_target_group":  green.TargetGroup,
		"blue_db":             pg.DSN(w.db["blue"]),
		"green_db":            pg.DSN(w.db["green"]),
		"sync_command":        []any{script, "{from}", "{to}"},
		"parity_query":        parityQuery,
		"health_timeout":      "1m",
		"parity_timeout":      "20s",
		"octopus_project":     "Web",
		"prod_environment":    "Production",
		"preprod_environment": "Pre-Production",
		"target_role":         "web",
	}
	return w
}

// with returns the world's inputs with some replaced.
func (w *world) with(kv ...any) map[string]any {
	in := map[string]any{}
	for k, v := range w.inputs {
		in[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		in[kv[i].(string)] = kv[i+1]
	}
	return in
}

// run runs the runbook with the real engine, collecting log lines, events
// and the error for the leak check.
func (w *world) run(inputs map[string]any) (*engine.Result, error) {
	w.t.Helper()
	rb, err := engine.Load("../env-swap.yaml", steps.Default)
	if err != nil {
		w.t.Fatal(err)
	}
	log := zerolog.New(syncWriter{w}).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	x := &engine.Executor{
		Registry: steps.Default,
		Store:    w.store,
		Log:      log,
		Sinks: []engine.Sink{engine.LogSink(log), func(e engine.Event) {
			b, err := json.Marshal(e)
			if err != nil {
				w.t.Errorf("marshal event %T: %v", e, err)
			}
			w.mu.Lock()
			w.texts = append(w.texts, fmt.Sprintf("event %T %s", e, b))
			w.mu.Unlock()
		}},
		UndoBackoff: 50 * time.Millisecond,
		Phase:       w.phase,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := x.Run(ctx, rb, inputs)
	if err != nil {
		w.mu.Lock()
		w.texts = append(w.texts, "error: "+err.Error())
		for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
			w.texts = append(w.texts, "wrapped error: "+e.Error())
		}
		w.mu.Unlock()
	}
	w.assertNoPassword()
	return res, err
}

type syncWriter struct{ w *world }

func (s syncWriter) Write(p []byte) (int, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	return s.w.logs.Write(p)
}

// assertNoPassword searches every log line, event, error and state file
// for the database password.
func (w *world) assertNoPassword() {
	w.t.Helper()
	w.mu.Lock()
	texts := append([]string{"log: " + w.logs.String()}, w.texts...)
	w.mu.Unlock()
	_ = filepath.WalkDir(w.stateDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			texts = append(texts, "state file "+filepath.Base(path)+": "+string(b))
		}
		return nil
	})
	for _, text := range texts {
		for _, secret := range []string{w.pg.Password, pgtest.PasswordMarker} {
			if strings.Contains(text, secret) {
				w.t.Errorf("the database password leaked into %s", text)
			}
		}
	}
}

// journalText returns the state files' contents.
func (w *world) journalText() string {
	var b strings.Builder
	_ = filepath.WalkDir(w.stateDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			s, _ := os.ReadFile(path)
			b.Write(s)
		}
		return nil
	})
	return b.String()
}

func (w *world) setCNAMEs(records map[string]string) {
	w.t.Helper()
	var changes []r53types.Change
	for name, target := range records {
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: awssdk.String(name), Type: r53types.RRTypeCname, TTL: awssdk.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: awssdk.String(target)}},
		}})
	}
	if _, err := w.r53.ChangeResourceRecordSets(w.t.Context(), &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: awssdk.String(w.topo.ZoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	}); err != nil {
		w.t.Fatalf("create CNAMEs: %v", err)
	}
}

// cname returns where a simple CNAME points.
func (w *world) cname(name string) string {
	w.t.Helper()
	out, err := w.r53.ListResourceRecordSets(w.t.Context(), &route53.ListResourceRecordSetsInput{HostedZoneId: awssdk.String(w.topo.ZoneID)})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, rs := range out.ResourceRecordSets {
		if strings.TrimSuffix(awssdk.ToString(rs.Name), ".") == name && rs.Type == r53types.RRTypeCname && rs.SetIdentifier == nil && len(rs.ResourceRecords) == 1 {
			return strings.TrimSuffix(awssdk.ToString(rs.ResourceRecords[0].Value), ".")
		}
	}
	w.t.Fatalf("no CNAME %s", name)
	return ""
}

// assertDNS checks that production points at colour prod and pre-prod at
// the other one.
func (w *world) assertDNS(prod string) {
	w.t.Helper()
	other := map[string]string{"blue": "green", "green": "blue"}[prod]
	if got, want := w.cname(w.prod), w.topo.Stacks[prod].DNS; got != want {
		w.t.Errorf("%s → %s, want %s (%s)", w.prod, got, want, prod)
	}
	if got, want := w.cname(w.preprod), w.topo.Stacks[other].DNS; got != want {
		w.t.Errorf("%s → %s, want %s (%s)", w.preprod, got, want, other)
	}
}

// writable reports whether a new session on a colour's database can write,
// as the application's would after reconnecting.
func (w *world) writable(colour string) bool {
	w.t.Helper()
	ctx := w.t.Context()
	conn, err := pgx.Connect(ctx, w.pg.DSN(w.db[colour]))
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	_, err = tx.Exec(ctx, "INSERT INTO orders VALUES (-1, 'probe')")
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return true
	case errors.As(err, &pgErr) && pgErr.Code == "25006":
		return false
	}
	w.t.Fatalf("probe write on %s: %v", colour, err)
	return false
}

func (w *world) assertWritable(colour string, want bool) {
	w.t.Helper()
	if got := w.writable(colour); got != want {
		w.t.Errorf("%s database writable = %v, want %v", colour, got, want)
	}
}

// freeze makes a colour's database read-only, as a release that made it
// the old production leaves it.
func (w *world) freeze(colour string) {
	w.pg.Exec(w.t, "postgres", "ALTER DATABASE "+w.db[colour]+" SET default_transaction_read_only = on")
}

// octopusState is where each colour's target is and what BlueGreen.Live says.
func (w *world) octopusState() string {
	var parts []string
	for _, c := range []string{"blue", "green"} {
		m := w.oct.Machine(w.space, w.machines[c])
		var envs []string
		for _, id := range m.EnvironmentIDs {
			for name, eid := range w.envs {
				if eid == id {
					envs = append(envs, name)
				}
			}
		}
		slices.Sort(envs)
		parts = append(parts, c+" in "+strings.Join(envs, ","))
	}
	for _, v := range w.oct.Variables(w.space, w.project) {
		parts = append(parts, v.Name+"="+v.Value)
	}
	return strings.Join(parts, "; ")
}

// ids returns the order ids in a colour's database.
func (w *world) ids(colour string) map[int64]bool {
	w.t.Helper()
	ctx := w.t.Context()
	conn, err := pgx.Connect(ctx, w.pg.DSN(w.db[colour]))
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT id FROM orders")
	if err != nil {
		w.t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// writer is the application: it inserts orders into one database for as
// long as it runs, reconnecting when its session is ended, and remembers
// which inserts committed.
type writer struct {
	committed []int64
	rejected  int
	stop      context.CancelFunc
	done      chan struct{}
}

func startWriter(t *testing.T, dsn string, firstID int64) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	wr := &writer{stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(wr.done)
		var conn *pgx.Conn
		defer func() {
			if conn != nil {
				conn.Close(context.Background())
			}
		}()
		for id := firstID; ctx.Err() == nil; {
			if conn == nil || conn.IsClosed() {
				c, err := pgx.Connect(ctx, dsn)
				if err != nil {
					continue
				}
				conn = c
			}
			if _, err := conn.Exec(ctx, "INSERT INTO orders VALUES ($1, 'written during the release')", id); err != nil {
				wr.rejected++
			} else {
				wr.committed = append(wr.committed, id)
				id++
			}
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() { wr.stop(); <-wr.done })
	return wr
}

// Stop stops the writer and returns the ids it committed.
func (wr *writer) Stop() []int64 {
	wr.stop()
	<-wr.done
	return wr.committed
}

func TestSwapMovesDataDNSAndOctopus(t *testing.T) {
	w := newWorld(t)
	app := startWriter(t, w.pg.DSN(w.db["blue"]), 10_000)

	res, err := w.run(w.inputs)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, w.logs.String())
	}
	written := app.Stop()
	if res.Live != "green" {
		t.Errorf("live after the swap = %q, want green", res.Live)
	}
	w.assertDNS("green")

	// Every order production accepted before the swap is in the new
	// production database: the 200 from before the release and every one
	// the application committed while it ran.
	ids := w.ids("green")
	for id := int64(1); id <= 200; id++ {
		if !ids[id] {
			t.Fatalf("order %d, written before the release, is missing from the new production database", id)
		}
	}
	for _, id := range written {
		if !ids[id] {
			t.Errorf("order %d, committed on the old production during the release, is missing from the new one", id)
		}
	}
	t.Logf("the application committed %d orders during the release and had %d writes rejected by the freeze", len(written), app.rejected)

	// The new production takes writes; the old one stays frozen, so a
	// client that still reaches it through a cached DNS answer fails.
	w.assertWritable("green", true)
	w.assertWritable("blue", false)
	if got, want := w.octopusState(), "blue in Pre-Production; green in Production; BlueGreen.Live=green"; got != want {
		t.Errorf("Octopus after the swap: %s\nwant %s", got, want)
	}

	// The next release goes the other way: the frozen database is now the
	// idle copy, so the run lifts its freeze, syncs into it, and freezes
	// green instead.
	w.pg.Exec(t, w.db["green"], "INSERT INTO orders VALUES (20000, 'written on green')")
	res, err = w.run(w.inputs)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, w.logs.String())
	}
	if res.Live != "blue" {
		t.Errorf("live after the second swap = %q, want blue", res.Live)
	}
	w.assertDNS("blue")
	w.assertWritable("blue", true)
	w.assertWritable("green", false)
	if !w.ids("blue")[20000] {
		t.Error("the order written on green is missing from blue after the second swap")
	}
	if got, want := w.octopusState(), "blue in Production; green in Pre-Production; BlueGreen.Live=blue"; got != want {
		t.Errorf("Octopus after the second swap: %s\nwant %s", got, want)
	}
}

// TestParityNeverReachedChangesNothing: the databases never agree, the
// parity gate times out, and the run is rolled back: production is
// writable again, both names point where they did, the idle database is
// frozen again as it was before the run, Octopus is untouched.
func TestParityNeverReachedChangesNothing(t *testing.T) {
	w := newWorld(t)
	w.freeze("green") // left frozen by the release that made green the old production
	before := w.octopusState()

	_, err := w.run(w.with(
		// current_database() differs on every pair of databases.
		"parity_query", "SELECT current_database() AS db",
		"parity_timeout", "3s",
	))
	assertRolledBack(t, err, "parity")
	w.assertDNS("blue")
	w.assertWritable("blue", true)
	w.assertWritable("green", false)
	if after := w.octopusState(); after != before {
		t.Errorf("Octopus changed by a run that failed before the swap:\nbefore %s\nafter  %s", before, after)
	}
}

// TestFailedSyncChangesNothing: the final sync (under the freeze) fails;
// the rollback unfreezes production and changes nothing else.
func TestFailedSyncChangesNothing(t *testing.T) {
	w := newWorld(t)
	before := w.octopusState()
	script, _ := filepath.Abs("testdata/fail-final-sync.sh")
	counter := filepath.Join(t.TempDir(), "calls")

	_, err := w.run(w.with("sync_command", []any{script, counter, "{from}", "{to}"}))
	assertRolledBack(t, err, "final_sync")
	if calls, _ := os.ReadFile(counter); strings.TrimSpace(string(calls)) != "2" {
		t.Errorf("the sync command ran %q times, want 2 (the bulk sync, then the failing final one)", calls)
	}
	w.assertDNS("blue")
	w.assertWritable("blue", true)
	w.assertWritable("green", true)
	if after := w.octopusState(); after != before {
		t.Errorf("Octopus changed by a run that failed before the swap:\nbefore %s\nafter  %s", before, after)
	}
}

// TestFailureAfterTheSwapSwapsBack: the names have been swapped and the
// targets moved when the BlueGreen.Live update fails (the project does not
// exist); the rollback moves the targets back, swaps the names back and
// unfreezes the database that is production again.
func TestFailureAfterTheSwapSwapsBack(t *testing.T) {
	w := newWorld(t)
	before := w.octopusState()

	// The last step's write fails once (a project that does not exist is
	// caught by preflight before any change, so the fault is the server's).
	w.oct.Inject(octopustest.Fault{Method: "PUT", Path: "/variables/", Status: 500, Times: 1})
	_, err := w.run(w.with())
	assertRolledBack(t, err, "live_variable")
	for _, kind := range []string{"aws.route53.set-records", "octopus.targets.move-environment", "sql.read-only"} {
		if !strings.Contains(w.logs.String(), kind) {
			t.Errorf("the log never mentions %s: the failure did not come after the swap", kind)
		}
	}
	w.assertDNS("blue")
	w.assertWritable("blue", true)
	w.assertWritable("green", true)
	if after := w.octopusState(); after != before {
		t.Errorf("Octopus not restored by the rollback:\nbefore %s\nafter  %s", before, after)
	}
}

// TestSharedDataLayerSkipsTheSQLSteps: without DSNs the stacks share one
// database; only the names and Octopus move.
func TestSharedDataLayerSkipsTheSQLSteps(t *testing.T) {
	w := newWorld(t)
	in := w.with("blue_db", "", "green_db", "", "sync_command", []any{}, "parity_query", "")
	res, err := w.run(in)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if res.Live != "green" {
		t.Errorf("live = %q, want green", res.Live)
	}
	w.assertDNS("green")
	w.assertWritable("blue", true)
	if ids := w.ids("green"); len(ids) != 10 {
		t.Errorf("green has %d orders, want its own 10: nothing may be synced", len(ids))
	}
}

// TestNoDSNPasswordInLogsJournalOrErrors runs a release whose sync command
// prints both DSNs, passwords included, on stdout and stderr before it
// fails, and a successful one, and searches every log line, event, error
// and state file for the password (run does that after every run in every
// test; here it is the point). It also checks that the search looked at the
// right things: the journal holds the sql undos with the DSNs as input
// references, and the log names the databases in redacted form.
func TestNoDSNPasswordInLogsJournalOrErrors(t *testing.T) {
	w := newWorld(t)
	// Frozen green makes the run journal an undo for each database: the
	// idle one's unfreeze and the live one's freeze.
	w.freeze("green")
	script, _ := filepath.Abs("testdata/fail-final-sync.sh")
	counter := filepath.Join(t.TempDir(), "calls")
	_, err := w.run(w.with("sync_command", []any{script, counter, "{from}", "{to}"}))
	assertRolledBack(t, err, "final_sync")
	if !strings.Contains(err.Error(), "server closed the connection unexpectedly") {
		t.Errorf("the error lost the command's own message: %v", err)
	}

	journal := w.journalText()
	for _, ref := range []string{"${{ inputs.blue_db }}", "${{ inputs.green_db }}"} {
		if !strings.Contains(journal, ref) {
			t.Errorf("the journal does not hold %s: the sql undos were not journaled by reference\n%s", ref, journal)
		}
	}
	redacted := "postgres@127.0.0.1:"
	if !strings.Contains(w.logs.String(), redacted) {
		t.Errorf("the log never names a database as %s...: the leak search saw no database log line", redacted)
	}

	if _, err := w.run(w.inputs); err != nil {
		t.Fatalf("run: %v", err)
	}
	w.assertNoPassword()
}

func assertRolledBack(t *testing.T, err error, step string) {
	t.Helper()
	var rf *engine.RunFailedError
	if !errors.As(err, &rf) {
		t.Fatalf("run error = %v, want a failed run", err)
	}
	if !rf.RolledBack {
		t.Fatalf("run failed but was not rolled back: %v (rollback: %v)", err, rf.RollbackErr)
	}
	if !strings.Contains(rf.Step, step) {
		t.Errorf("failed step = %q, want %s (error: %v)", rf.Step, step, err)
	}
}
