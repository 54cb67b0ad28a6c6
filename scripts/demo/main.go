// Command demo shows a blue/green release end to end without an AWS
// account: it starts moto_server on a loopback port, builds a two-stack
// topology on it (VPC, load balancers, target groups, Auto Scaling groups,
// a hosted zone with weighted records), runs runbooks/weighted-dns.yaml
// with the real bluegreen binary, prints the result, runs it again to swap
// back, and finally shows a rollback: a release whose idle stack answers
// with 5xx errors during the first bake. `make demo` runs it; flags shorten
// or lengthen the waits.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

func main() {
	var (
		bake     = flag.Duration("bake", 3*time.Second, "how long each weight bakes (the runbook's default is 2m)")
		delay    = flag.Duration("scale-down-delay", 2*time.Second, "wait before the old group is scaled in (default in the runbook: 10m)")
		weights  = flag.String("weights", "[10, 50, 100]", "the idle stack's share at each step")
		runbook  = flag.String("runbook", "runbooks/weighted-dns.yaml", "the runbook to run")
		bin      = flag.String("bin", "", "a bluegreen binary to use (default: build ./cmd/bluegreen)")
		logLevel = flag.String("log-level", "info", "bluegreen's log level")
		rollback = flag.Bool("rollback", true, "finish with a release that fails on 5xx errors and rolls back")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *runbook, *bin, *logLevel, *rollback, map[string]string{
		"bake": bake.String(), "scale_down_delay": delay.String(), "weights": *weights, "poll": "1s", "health_timeout": "1m",
	}); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, runbook, bin, logLevel string, rollback bool, timing map[string]string) error {
	tmp, err := os.MkdirTemp("", "bluegreen-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "bluegreen")
		banner("building bluegreen")
		if err := command(ctx, nil, "go", "build", "-o", bin, "./cmd/bluegreen"); err != nil {
			return fmt.Errorf("build bluegreen: %w", err)
		}
	}

	banner("starting moto_server (a local AWS API)")
	moto, err := awstest.Launch(ctx)
	if err != nil {
		return err
	}
	defer moto.Close()
	fmt.Println("moto_server at", moto.URL)

	banner("building the topology: VPC, 2 ALBs, 2 target groups, 2 ASGs, weighted records")
	topo, err := awstest.Build(ctx, awstest.Config(moto.URL), awstest.Options{Name: "demo"})
	if err != nil {
		return err
	}
	fmt.Printf("hosted zone %s, weighted name %s\n", topo.ZoneID, topo.Record)
	if err := printState(ctx, topo); err != nil {
		return err
	}

	env := os.Environ()
	for k, v := range awstest.Env(moto.URL) {
		env = append(env, k+"="+v)
	}
	inputs := topo.WeightedDNSInputs()
	for k, v := range timing {
		inputs[k] = v
	}
	args := []string{"run", runbook, "--state", filepath.Join(tmp, "state"), "--log-format", "console", "--log-level", logLevel}
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--set", k+"="+inputs[k])
	}

	for i, title := range []string{"release: shift traffic from blue to green", "release again: swap back to blue"} {
		banner(title)
		fmt.Println("$ bluegreen", strings.Join(shorten(args), " "))
		start := time.Now()
		if err := command(ctx, env, bin, args...); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Printf("\nrun %d finished in %s\n", i+1, time.Since(start).Round(time.Millisecond))
		if err := printState(ctx, topo); err != nil {
			return err
		}
		// AWS deregisters terminated instances from their target group;
		// moto leaves them (see internal/awstest), so do it for it.
		if err := topo.DeregisterGone(ctx); err != nil {
			return err
		}
	}
	if rollback {
		banner("release with a faulty build: green answers 5xx during the first bake")
		// The load balancer would publish these; the demo publishes them
		// itself, on green's target group, before the release starts.
		if err := topo.PutErrors(ctx, "green", 25); err != nil {
			return err
		}
		fmt.Println("published HTTPCode_Target_5XX_Count = 25 for green (error_threshold is 5)")
		fmt.Println("$ bluegreen", strings.Join(shorten(args), " "))
		err := command(ctx, env, bin, args...)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			return fmt.Errorf("the faulty release should fail with exit code 1 after rolling back, got %v", err)
		}
		fmt.Println("\nexit code 1: the release failed and was rolled back")
		if err := printState(ctx, topo); err != nil {
			return err
		}
	}
	banner("status")
	// status finds the application's record by the inputs that name it.
	if err := command(ctx, env, bin, append([]string{"status"}, args[1:]...)...); err != nil {
		return err
	}
	if dir := os.Getenv("BLUEGREEN_REPORT_DIR"); dir != "" {
		banner("run reports (open them in a browser)")
		reports, _ := filepath.Glob(filepath.Join(dir, "*.html"))
		for _, r := range reports {
			fmt.Println(r)
		}
	}
	return nil
}

func printState(ctx context.Context, topo *awstest.Topology) error {
	s, err := topo.State(ctx)
	if err != nil {
		return err
	}
	fmt.Print("\n", s)
	return nil
}

func banner(s string) { fmt.Printf("\n=== %s\n", s) }

// shorten abbreviates the long ARNs in the printed command line.
func shorten(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(v, "arn:") && len(v) > 40 {
			a = k + "=" + v[:20] + "…" + v[len(v)-16:]
		}
		out[i] = a
	}
	return out
}

func command(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr, cmd.Env = os.Stdout, os.Stderr, env
	return cmd.Run()
}
