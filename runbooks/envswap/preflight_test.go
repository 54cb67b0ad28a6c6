package envswap

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
)

// closedURL is an http URL on loopback where nothing listens.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestPreflightStopsEnvSwapBeforeAnyChange: a misconfigured Octopus, a bad
// DSN, an unknown target role or project make env-swap exit as invalid
// (exit 2) within 5 seconds, naming the problem, with DNS, databases,
// Octopus targets and variables as they were.
func TestPreflightStopsEnvSwapBeforeAnyChange(t *testing.T) {
	cases := []struct {
		name  string
		setup func(w *world) map[string]any
		want  string
	}{
		{"octopus not configured", func(w *world) map[string]any {
			t.Setenv(octopus.EnvURL, "")
			return w.with()
		}, "set OCTOPUS_URL"},
		{"octopus unreachable", func(w *world) map[string]any {
			t.Setenv(octopus.EnvURL, closedURL(t))
			return w.with()
		}, "connection refused"},
		{"wrong octopus api key", func(w *world) map[string]any {
			t.Setenv(octopus.EnvAPIKey, "API-WRONGKEY0000000000000000")
			return w.with()
		}, "Octopus server"},
		{"bad dsn", func(w *world) map[string]any {
			dsn := w.pg.DSN(w.db["green"])
			return w.with("green_db", strings.Replace(dsn, ":"+w.pg.Password+"@", ":wrong@", 1))
		}, "PostgreSQL"},
		{"unknown target role", func(w *world) map[string]any {
			return w.with("target_role", "nope")
		}, `role "nope-green"`},
		{"unknown project", func(w *world) map[string]any {
			return w.with("octopus_project", "Nope")
		}, `Octopus project "Nope" exists`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			inputs := c.setup(w)
			before := map[string]int{}
			for _, col := range []string{"blue", "green"} {
				before[col] = w.pg.QueryInt(t, w.db[col], "SELECT count(*) FROM orders")
			}
			start := time.Now()
			_, err := w.run(inputs)
			took := time.Since(start)
			var inv *engine.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("run error %v (%T), want *engine.InvalidError (exit 2)", err, err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "preflight") {
				t.Fatalf("error does not name the problem (%q):\n%v", c.want, err)
			}
			if took > 5*time.Second {
				t.Fatalf("preflight took %s, want under 5s", took)
			}
			t.Logf("%s: exit 2 after %s: %v", c.name, took.Round(time.Millisecond), err)
			// Nothing changed: DNS, rows, write access, Octopus.
			w.assertDNS("blue")
			for _, col := range []string{"blue", "green"} {
				if n := w.pg.QueryInt(t, w.db[col], "SELECT count(*) FROM orders"); n != before[col] {
					t.Errorf("%s has %d orders, had %d", col, n, before[col])
				}
				if !w.writable(col) {
					t.Errorf("%s database was frozen", col)
				}
			}
			if got := w.oct.Machine(w.space, w.machines["blue"]).EnvironmentIDs; !slices.Equal(got, []string{w.envs["Production"]}) {
				t.Errorf("blue target moved: %v", got)
			}
			if got := w.oct.Machine(w.space, w.machines["green"]).EnvironmentIDs; !slices.Equal(got, []string{w.envs["Pre-Production"]}) {
				t.Errorf("green target moved: %v", got)
			}
			for _, v := range w.oct.Variables(w.space, w.project) {
				if v.Name == "BlueGreen.Live" && v.Value != "blue" {
					t.Errorf("BlueGreen.Live = %q", v.Value)
				}
			}
			if j := w.journalText(); strings.Contains(j, `"journal"`) && strings.Contains(j, `"undo"`) {
				t.Errorf("a change was journaled:\n%s", j)
			}
		})
	}
}
