// Command demo-env builds a demo environment a person can try bluegreen's
// commands on by hand, without an AWS account: it starts moto_server on
// 127.0.0.1:PORT in the background, creates the AWS strategies' stacks on
// it (the same topologies the tests use, internal/awstest) and writes, in
// one folder:
//
//	inputs.yaml      every input of runbooks/weighted-dns.yaml: ids, full ARNs, short timings
//	alb-inputs.yaml  the same for runbooks/alb-weighted.yaml (its own stacks)
//	env              the SDK's standard variables that point at the server (source it)
//	moto.pid         the server's process id (make demo-env-stop ends it)
//	moto.log         the server's request log
//
// `make demo-env` runs it; the README's Quick start uses what it writes.
// It is a make target rather than a `bluegreen demo` command so that the
// released binary carries no test fixtures and never starts processes
// nobody asked for in production.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// timings keep the demo's runs short; the runbooks' defaults (2m bakes,
// 10m scale-down delay) are meant for production.
var timings = map[string]string{
	"bake": "5s", "poll": "1s", "health_timeout": "1m", "scale_down_delay": "5s", "rollback_settle": "2s",
}

func main() {
	port := flag.Int("port", 5000, "loopback port of the moto_server to start")
	dir := flag.String("dir", ".demo", "folder the inputs, env and pid files are written to")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *port, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo-env:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, port int, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pid, url, err := awstest.StartDetached(ctx, port, filepath.Join(dir, "moto.log"))
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = syscall.Kill(-pid, syscall.SIGTERM)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "moto.pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	bctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cfg := awstest.Config(url)
	dns, err := awstest.Build(bctx, cfg, awstest.Options{Name: "demo"})
	if err != nil {
		return fmt.Errorf("build the weighted-dns stacks: %w", err)
	}
	alb, err := awstest.Build(bctx, cfg, awstest.Options{Name: "demoalb", SharedALB: true})
	if err != nil {
		return fmt.Errorf("build the alb-weighted stacks: %w", err)
	}
	files := []struct {
		name, runbook string
		inputs        map[string]string
	}{
		{"inputs.yaml", "runbooks/weighted-dns.yaml", dns.WeightedDNSInputs()},
		{"alb-inputs.yaml", "runbooks/alb-weighted.yaml", alb.ALBInputs()},
	}
	for _, f := range files {
		if err := writeInputs(filepath.Join(dir, f.name), f.runbook, url, f.inputs); err != nil {
			return err
		}
	}
	var env strings.Builder
	fmt.Fprintf(&env, "# Source this file (. %s) to point the AWS SDK at the demo's moto_server.\n", filepath.Join(dir, "env"))
	fmt.Fprintln(&env, "# Only the SDK's standard variables: bluegreen needs nothing else to talk to an emulator.")
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		fmt.Fprintf(&env, "export %s=%s\n", k, awstest.Env(url)[k])
	}
	if err := os.WriteFile(filepath.Join(dir, "env"), []byte(env.String()), 0o644); err != nil {
		return err
	}
	ok = true
	fmt.Printf("moto_server at %s (pid %d, log %s)\n", url, pid, filepath.Join(dir, "moto.log"))
	for _, f := range files {
		fmt.Printf("%-22s inputs of %s\n", filepath.Join(dir, f.name), f.runbook)
	}
	fmt.Printf("%-22s the AWS SDK settings: . %s\n", filepath.Join(dir, "env"), filepath.Join(dir, "env"))
	fmt.Println("stop it with: make demo-env-stop")
	return nil
}

// writeInputs writes a runbook's inputs as YAML, every value whole and
// quoted (ARNs hold colons and slashes).
func writeInputs(path, runbook, url string, inputs map[string]string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Inputs of %s for the demo stacks on %s (make demo-env).\n", runbook, url)
	fmt.Fprintln(&b, "# The timings are short for the demo; the runbook's defaults are meant for production.")
	all := map[string]string{}
	for k, v := range inputs {
		all[k] = v
	}
	for k, v := range timings {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strconv.Quote(all[k]))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
