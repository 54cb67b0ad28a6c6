package e2e_aws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/faultproxy"
	"github.com/bluegreen-deploy/bluegreen/internal/state"
	"github.com/bluegreen-deploy/bluegreen/internal/state/dynamostate"
)

// manyRunbook releases one application whose traffic is a pair of
// weighted records: real Route53 calls, no bakes. The application is the
// record, so the runbook declares it as the state key: every application
// gets its own record and lock in the shared DynamoDB table.
const manyRunbook = `version: 1
name: many-apps
inputs:
  zone_id: {type: string}
  record: {type: string}
  wait: {type: duration, default: 0s}
key: "${{ inputs.zone_id }}/${{ inputs.record }}"
colours: {blue: {}, green: {}}
detect:
  uses: aws.route53.get-weights
  with: {zone: "${{ inputs.zone_id }}", name: "${{ inputs.record }}"}
  live: "weights.blue >= weights.green ? 'blue' : 'green'"
steps:
  - uses: flow.pause
    with: {duration: "${{ inputs.wait }}", reason: holding the lock}
  - id: shift
    foreach: [50, 100]
    as: pct
    steps:
      - uses: aws.route53.set-weights
        with:
          zone: "${{ inputs.zone_id }}"
          name: "${{ inputs.record }}"
          weights: {"${{ idle.name }}": "${{ pct }}", "${{ live.name }}": "${{ 100 - pct }}"}
          poll: 100ms
`

// cliResult is one run of the binary.
type cliResult struct {
	code int
	out  string
}

func runCLI(bin string, env []string, args ...string) cliResult {
	cmd := exec.Command(bin, append(args, "--log-format", "json")...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return cliResult{ee.ExitCode(), string(out)}
	case err != nil:
		return cliResult{-1, err.Error()}
	}
	return cliResult{0, string(out)}
}

// envFor is the process environment pointing the SDK at endpoint.
func envFor(endpoint string) []string {
	env := os.Environ()
	for k, v := range awstest.Env(endpoint) {
		env = append(env, k+"="+v)
	}
	return env
}

// recordWeights reads the weights of name's weighted records straight
// from moto.
func recordWeights(ctx context.Context, r53 *route53.Client, zone, name string) (map[string]int, error) {
	out, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: &zone, StartRecordName: &name, MaxItems: awssdk.Int32(10)})
	if err != nil {
		return nil, err
	}
	w := map[string]int{}
	for _, rs := range out.ResourceRecordSets {
		if strings.TrimSuffix(awssdk.ToString(rs.Name), ".") == strings.TrimSuffix(name, ".") && rs.SetIdentifier != nil {
			w[*rs.SetIdentifier] = int(awssdk.ToInt64(rs.Weight))
		}
	}
	return w, nil
}

// TestManyApplicationsAtOnce releases 50 applications concurrently, each
// its own bluegreen process, against one DynamoDB state table, behind a
// proxy that throttles, fails, resets and loses responses; then starts 10
// runs of one application at once.
func TestManyApplicationsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	const apps = 50
	m, _ := awstest.Shared(t)
	ctx := context.Background()
	cfg := awstest.Config(m.URL)
	createTable(t, cfg, "many-apps")
	r53 := route53.NewFromConfig(cfg)
	z, err := r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: awssdk.String("many.example.com"), CallerReference: awssdk.String(fmt.Sprintf("many-%d", time.Now().UnixNano()))})
	if err != nil {
		t.Fatal(err)
	}
	zone := strings.TrimPrefix(awssdk.ToString(z.HostedZone.Id), "/hostedzone/")
	var changes []r53types.Change
	for i := 0; i < apps; i++ {
		for c, w := range map[string]int64{"blue": 100, "green": 0} {
			changes = append(changes, r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: awssdk.String(fmt.Sprintf("app-%02d.many.example.com", i)), Type: r53types.RRTypeCname, TTL: awssdk.Int64(60),
				SetIdentifier: awssdk.String(c), Weight: awssdk.Int64(w),
				ResourceRecords: []r53types.ResourceRecord{{Value: awssdk.String(fmt.Sprintf("%s-%02d.lb.example.com", c, i))}},
			}})
		}
	}
	if _, err := r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: &zone, ChangeBatch: &r53types.ChangeBatch{Changes: changes}}); err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.New(m.URL, faultproxy.Options{Seed: 50, Hold: 2 * time.Second, Rates: faultproxy.Rates{
		Throttle: 0.15, Server500: 0.04, Reset: 0.02, Lost: 0.02, BlackHole: 0.005,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	bin := binary(t)
	dir := t.TempDir()
	rb := filepath.Join(dir, "many.yaml")
	if err := os.WriteFile(rb, []byte(manyRunbook), 0o644); err != nil {
		t.Fatal(err)
	}
	env := envFor(proxy.URL)
	record := func(i int) string { return fmt.Sprintf("app-%02d.many.example.com", i) }
	args := func(i int, extra ...string) []string {
		return append([]string{"run", rb, "--state", "dynamodb://many-apps", "--set", "zone_id=" + zone, "--set", "record=" + record(i)}, extra...)
	}

	start := time.Now()
	results := make([]cliResult, apps)
	var wg sync.WaitGroup
	for i := 0; i < apps; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			results[i] = runCLI(bin, env, args(i)...)
		}(i)
	}
	wg.Wait()
	took := time.Since(start)

	store := dynamostate.NewWithConfig(cfg, "many-apps")
	wrong := 0
	for i, r := range results {
		w, err := recordWeights(ctx, r53, zone, record(i))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := store.Load(ctx, zone+"/"+record(i))
		switch {
		case r.code != 0:
			t.Errorf("app %d: exit %d:\n%s", i, r.code, tail(r.out))
			wrong++
		case w["green"] != 100 || w["blue"] != 0:
			t.Errorf("app %d exited 0 with weights %v", i, w)
			wrong++
		case err != nil || rec == nil || rec.Live != "green" || rec.Run == nil || rec.Run.Status != state.StatusSucceeded || rec.Run.Inputs["record"] != record(i):
			t.Errorf("app %d: its record is not its own finished release: %+v, %v", i, rec, err)
			wrong++
		}
	}
	t.Logf("%d applications released concurrently in %s behind faults: %s (%d injected); wrong end states: %d",
		apps, took.Round(time.Millisecond), proxy, proxy.Injected(), wrong)

	// Ten runs of one application at once: one proceeds, nine are refused
	// naming it. No faults here: the point is the lock.
	if err := proxy.SetRates(faultproxy.Rates{}); err != nil {
		t.Fatal(err)
	}
	ten := make([]cliResult, 10)
	for i := range ten {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ten[i] = runCLI(bin, env, args(0, "--set", "wait=3s")...)
		}(i)
	}
	wg.Wait()
	ok, locked := 0, 0
	for i, r := range ten {
		switch {
		case r.code == 0:
			ok++
		case r.code == 3 && strings.Contains(r.out, "is locked by run "):
			locked++
		default:
			t.Errorf("run %d of app 0: exit %d:\n%s", i, r.code, tail(r.out))
		}
	}
	if ok != 1 || locked != 9 {
		t.Fatalf("10 runs of one application: %d proceeded and %d were refused naming the holder; want 1 and 9", ok, locked)
	}
	if w, _ := recordWeights(ctx, r53, zone, record(0)); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("app 0 after the one run that proceeded: %v, want blue back at 100", w)
	}
}

// tail keeps the end of a long output for an error message.
func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// createTable creates a state table on moto. moto on a busy machine
// sometimes answers a CreateTable with a 500 page: try again.
func createTable(t *testing.T, cfg awssdk.Config, name string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		err := dynamostate.CreateTable(context.Background(), cfg, name)
		if err == nil {
			return
		}
		if attempt == 4 {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
}
