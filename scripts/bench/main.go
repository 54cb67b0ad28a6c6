// Command bench measures bluegreen beside what a user would do instead and
// writes the figures as Markdown: `make bench` runs it after the Go
// benchmarks, and BENCHMARKS.md quotes what it wrote.
//
// It starts moto_server on a free loopback port, builds the blue/green
// topology the AWS tests use, and times a traffic switch done by one
// `bluegreen step run` beside the AWS CLI calls the Octopus Library's
// blue/green templates make for the same switch. Every process sees only
// the standard AWS_* variables, pointed at a counting proxy in front of
// moto, which also gives the API calls each side makes and when the first
// one arrives. Figures are reported, never judged against a threshold:
// the machines these run on are shared, so a slow run must not fail a
// build.
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/publish"
)

func main() {
	bin := flag.String("bin", "bin/bluegreen", "the bluegreen binary to measure (make build)")
	aws := flag.String("aws", "aws", "the AWS CLI to compare with")
	out := flag.String("out", "", "also write the Markdown figures to this file")
	rounds := flag.Int("rounds", 10, "measured runs of each side of each comparison")
	pkg := flag.Bool("package", true, "build the Octopus package (cross-compiles linux/arm64) and report its size")
	gobench := flag.String("gobench", "", "output of `go test -bench -benchmem` to report the engine's figures from")
	flag.Parse()
	if err := run(*bin, *aws, *out, *gobench, *rounds, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, aws, out, gobench string, rounds int, pkg bool) error {
	ctx := context.Background()
	if p, err := exec.LookPath(aws); err == nil {
		aws = p
	}
	// A pyenv shim is a shell script that finds the real program; a
	// worker with the AWS CLI installed runs the real one, so time that.
	if real, err := exec.Command("pyenv", "which", "aws").Output(); err == nil && strings.Contains(aws, "shims") {
		aws = strings.TrimSpace(string(real))
	}
	var md bytes.Buffer
	header(&md, bin, aws, rounds)

	moto, err := awstest.Launch(ctx)
	if err != nil {
		return err
	}
	defer moto.Close()
	cnt := awstest.NewCounter(moto.URL)
	defer cnt.Close()
	topo, err := awstest.Build(ctx, awstest.Config(moto.URL), awstest.Options{SharedALB: true})
	if err != nil {
		return fmt.Errorf("build topology: %w", err)
	}
	r := newRunner(cnt)
	var results []result
	for _, c := range []comparison{elbComparison(bin, aws, topo), dnsComparison(bin, aws, topo)} {
		fmt.Fprintf(os.Stderr, "bench: %s (%d runs a side)\n", c.name, rounds)
		res, err := compare(ctx, r, c, rounds)
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	switchTable(&md, results)
	startupTable(&md, results)
	if err := sizes(ctx, &md, bin, pkg); err != nil {
		return err
	}
	if gobench != "" {
		gb, err := readGoBench(gobench)
		if err != nil {
			return err
		}
		engineTables(&md, gb)
		fullRunTables(&md, gb)
		rollbackAndLoadTables(&md, gb)
	}
	os.Stdout.Write(md.Bytes())
	if out != "" {
		return os.WriteFile(out, md.Bytes(), 0o644)
	}
	return nil
}

func header(w io.Writer, bin, aws string, rounds int) {
	fmt.Fprintf(w, "Measured %s by `make bench` (%s, %s).\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), version(bin), strings.TrimSpace(cmdOut(aws, "--version")))
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ": ")
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(w, "Machine: %s/%s, %d CPUs (%s), %s; load average at start %s (1, 5, 15 min).\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), model, runtime.Version(), strings.Join(strings.Fields(string(load))[:3], ", "))
	fmt.Fprintf(w, "Each side ran %d times, alternating (bluegreen, CLI, CLI, bluegreen, ...) and each run "+
		"switching to the other split (blue 100/green 0, then 0/100), after one unmeasured warm-up run each. "+
		"Every run is checked to have left AWS holding the weights it set.\n\n", rounds)
}

func switchTable(w io.Writer, rs []result) {
	fmt.Fprintln(w, "### Traffic switch: `bluegreen step run` vs the AWS CLI pair")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| switch | tool | median wall | min .. max | peak RSS (median) | API calls | wall ratio |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rs {
		ratio := float64(r.cli.wall) / float64(r.bluegreen.wall)
		fmt.Fprintf(w, "| %s | bluegreen (1 process) | %s | %s .. %s | %s | %d | **%.1fx faster** |\n",
			r.name, ms(r.bluegreen.wall), ms(r.bluegreen.wallMin), ms(r.bluegreen.wallMax), mib(r.bluegreen.rssKB), r.bluegreen.calls, ratio)
		fmt.Fprintf(w, "| %s | AWS CLI (2 processes) | %s | %s .. %s | %s | %d | 1.0x |\n",
			r.name, ms(r.cli.wall), ms(r.cli.wallMin), ms(r.cli.wallMax), mib(r.cli.rssKB), r.cli.calls)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "API calls of the last run of each side:")
	fmt.Fprintln(w)
	for _, r := range rs {
		fmt.Fprintf(w, "- %s: bluegreen %s; AWS CLI %s\n", r.name, r.bluegreen.callsBy, r.cli.callsBy)
	}
	fmt.Fprintln(w)
}

func startupTable(w io.Writer, rs []result) {
	fmt.Fprintln(w, "### Start-up: process start to the first AWS API request (median)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| switch | bluegreen | AWS CLI | ratio |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %s | %s | %.1fx |\n", r.name, ms(r.bluegreen.firstCall), ms(r.cli.firstCall),
			float64(r.cli.firstCall)/float64(r.bluegreen.firstCall))
	}
	fmt.Fprintln(w)
}

// sizes reports the binary, the binary gzipped and the Octopus package
// (both architectures, as `bluegreen octopus push-package` builds it).
func sizes(ctx context.Context, w io.Writer, bin string, pkg bool) error {
	b, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	fmt.Fprintln(w, "### Sizes")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| what | bytes | MiB |")
	fmt.Fprintln(w, "|---|---|---|")
	row := func(what string, n int64) { fmt.Fprintf(w, "| %s | %d | %.1f |\n", what, n, float64(n)/(1<<20)) }
	row("static binary (`make build`, linux/"+runtime.GOARCH+")", int64(len(b)))
	row("the binary gzipped", int64(gz.Len()))
	if pkg {
		fmt.Fprintln(os.Stderr, "bench: building the Octopus package (cross-compiles linux/arm64)")
		dir, err := os.MkdirTemp("", "bluegreen-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path, err := publish.BuildPackage(ctx, publish.BuildOptions{
			Version: "0.0.0-bench", Binaries: map[string]string{runtime.GOARCH: bin}, OutDir: dir,
		})
		if err != nil {
			return err
		}
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		row("Octopus package bluegreen.<version>.tar.gz (linux-amd64 + linux-arm64, `publish.BuildPackage`)", fi.Size())
	}
	fmt.Fprintln(w)
	return nil
}

func version(bin string) string {
	v := strings.TrimSpace(cmdOut(bin, "--version"))
	if v == "" {
		return "unknown version"
	}
	return v
}

func cmdOut(name string, args ...string) string {
	b, _ := exec.Command(name, args...).CombinedOutput()
	return string(b)
}
