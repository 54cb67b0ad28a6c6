package main

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// sample is one measured process or pair of processes.
type sample struct {
	wall time.Duration
	// rssKB is the peak resident set of the largest process (getrusage
	// ru_maxrss of the child, in KiB on Linux).
	rssKB int64
	// firstCall is the time from starting the (first) process to the
	// first AWS API request reaching the counting proxy.
	firstCall time.Duration
	calls     int
	callsBy   string // e.g. "DescribeListeners 2, ModifyListener 1"
}

// runner starts processes with the AWS environment pointed at the
// counting proxy and measures them.
type runner struct {
	env []string
	cnt *awstest.Counter

	mu    sync.Mutex
	first time.Time // time of the first API request since arm
}

func newRunner(cnt *awstest.Counter) *runner {
	r := &runner{cnt: cnt}
	aws := awstest.Env(cnt.URL)
	// The AWS CLI v1 (botocore) reads its region from AWS_DEFAULT_REGION;
	// it is a standard variable too, so both tools see the same settings.
	aws["AWS_DEFAULT_REGION"] = awstest.Region
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := aws[k]; ok || strings.HasPrefix(k, "AWS_") {
			continue
		}
		r.env = append(r.env, kv)
	}
	for k, v := range aws {
		// An empty variable means "not set" to the Go SDK, but the AWS
		// CLI reads AWS_PROFILE="" as a profile named "": leave them out.
		if v == "" {
			continue
		}
		r.env = append(r.env, k+"="+v)
	}
	cnt.Before(func(string, url.Values) {
		r.mu.Lock()
		if r.first.IsZero() {
			r.first = time.Now()
		}
		r.mu.Unlock()
	})
	return r
}

// call is one process of a sample; it gets the previous process's
// standard output (a change id the next call needs).
type call func(prev string) []string

// argv is a call that needs nothing from the previous one.
func argv(a ...string) call { return func(string) []string { return a } }

// run runs each call in turn (a pair of CLI calls counts as one sample)
// and fails when any exits non-zero: a failed switch is not a figure.
func (r *runner) run(calls ...call) (sample, error) {
	var s sample
	r.cnt.Reset()
	r.mu.Lock()
	r.first = time.Time{}
	r.mu.Unlock()
	start := time.Now()
	prev := ""
	for _, c := range calls {
		argv := c(prev)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = r.env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return s, fmt.Errorf("%s %s: %v: %s", argv[0], strings.Join(argv[1:3], " "), err, stderr.String())
		}
		prev = strings.TrimSpace(stdout.String())
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > s.rssKB {
			s.rssKB = ru.Maxrss
		}
	}
	s.wall = time.Since(start)
	r.mu.Lock()
	if !r.first.IsZero() {
		s.firstCall = r.first.Sub(start)
	}
	r.mu.Unlock()
	s.calls = r.cnt.Total()
	by := r.cnt.Counts()
	ops := make([]string, 0, len(by))
	for k, n := range by {
		_, op, _ := strings.Cut(k, ":")
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
	}
	sort.Strings(ops)
	s.callsBy = strings.Join(ops, ", ")
	return s, nil
}

// stats summarises the samples of one side of a comparison.
type stats struct {
	n                int
	wall, firstCall  time.Duration // medians
	wallMin, wallMax time.Duration
	rssKB            int64 // median
	calls            int   // calls of the last sample
	callsBy          string
}

func summarise(ss []sample) stats {
	st := stats{n: len(ss)}
	if len(ss) == 0 {
		return st
	}
	walls := make([]time.Duration, len(ss))
	firsts := make([]time.Duration, len(ss))
	rss := make([]int64, len(ss))
	for i, s := range ss {
		walls[i], firsts[i], rss[i] = s.wall, s.firstCall, s.rssKB
	}
	st.wall, st.firstCall, st.rssKB = median(walls), median(firsts), median(rss)
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	st.wallMin, st.wallMax = walls[0], walls[len(walls)-1]
	st.calls, st.callsBy = ss[len(ss)-1].calls, ss[len(ss)-1].callsBy
	return st
}

func median[T int64 | time.Duration](v []T) T {
	c := append([]T(nil), v...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mib(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
