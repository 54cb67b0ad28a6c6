package main

import (
	"encoding/json"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// shippedRunbook returns the path of a runbook in the repository's runbooks/.
func shippedRunbook(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "runbooks", name)
}

// TestPlanPhasesOfShippedRunbooks checks the phase boundaries an Octopus
// deployment process relies on: `plan --phase P` of every shipped runbook
// lists exactly P's top-level steps, so Octopus can deploy the package
// between prepare and promote, and cleanup runs last.
func TestPlanPhasesOfShippedRunbooks(t *testing.T) {
	aws := map[string][]string{
		"prepare": {"live_group", "idle_image", "scale_idle", "idle_instances", "idle_registered", "tag_idle"},
		"promote": {"idle_healthy", "shift", "live_variable", "retag_new_live", "retag_new_idle"},
		"cleanup": {"scale_down_delay", "scale_down_old"},
	}
	dns := map[string][]string{
		"prepare": append([]string{"records", "records_match"}, aws["prepare"]...),
		"promote": aws["promote"], "cleanup": aws["cleanup"],
	}
	// alb-weighted's promote opens, checks and closes the optional
	// preview route before the shift.
	alb := map[string][]string{
		"prepare": aws["prepare"],
		"promote": append([]string{"idle_healthy", "preview", "preview_check", "preview_close"}, aws["promote"][1:]...),
		"cleanup": aws["cleanup"],
	}
	want := map[string]map[string][]string{
		"alb-weighted.yaml": alb,
		"weighted-dns.yaml": dns,
		"same-host.yaml": {
			"prepare": {"idle-port-free", "idle"},
			"promote": {"start-idle", "idle-listening", "idle-healthy", "drift", "identity", "preview", "preview-check", "preview-close", "switch-nginx", "switch-symlink", "verify"},
			"cleanup": {"drain", "stop-old", "old-port-free"},
		},
		"env-swap.yaml": {
			"prepare": {"check_inputs", "idle_healthy", "idle_writable", "bulk_sync"},
			"promote": {"freeze_live", "final_sync", "live_parity", "parity", "swap", "targets_to_prod", "targets_to_preprod", "live_variable"},
			"cleanup": {"new_prod_writable"},
		},
	}
	for book, phases := range want {
		path := shippedRunbook(book)
		rb, err := engine.Load(path, steps.Default)
		if err != nil {
			t.Fatalf("load %s: %v", book, err)
		}
		// The phases a deployment process interleaves with its own steps
		// come in this order, and no step is outside a phase (an optional
		// phase of its own, such as a preview, may sit between them).
		var order []string
		for _, ph := range rb.Phases {
			if _, ok := phases[ph]; ok {
				order = append(order, ph)
			}
		}
		if !slices.Equal(order, []string{"prepare", "promote", "cleanup"}) || slices.Contains(rb.Phases, "main") || rb.Phases[0] != "prepare" {
			t.Errorf("%s: phases %v, want prepare first, then promote and cleanup, and no step outside a phase", book, rb.Phases)
		}
		args := []string{"plan", path, "--live", "blue", "--offline", "--output", "json", "--state", t.TempDir()}
		for _, in := range rb.Inputs {
			if in.Default == nil && in.Required {
				args = append(args, "--set", in.Name+"="+dummyInput(in))
			}
		}
		for phase, ids := range phases {
			r := bg(t, append(slices.Clone(args), "--phase", phase)...)
			r.wantCode(t, ExitOK)
			p, got := planSteps(t, r.stdout, book, phase)
			if p.Outline {
				t.Errorf("%s --phase %s with every input: an outline, want a resolved plan", book, phase)
			}
			if !slices.Equal(got, ids) {
				t.Errorf("%s --phase %s: steps %v, want %v", book, phase, got, ids)
			}
		}
		bg(t, append(slices.Clone(args), "--phase", "deploy")...).wantCode(t, ExitInvalid)

		// The issue's own command, with no inputs at all: the phase's
		// steps as written, and the inputs a resolved plan needs.
		for phase, ids := range phases {
			r := bg(t, "plan", path, "--phase", phase, "--state", t.TempDir(), "-o", "json")
			r.wantCode(t, ExitOK)
			p, got := planSteps(t, r.stdout, book, phase)
			if !p.Outline || len(p.Missing) == 0 || p.Live != "" {
				t.Errorf("%s --phase %s without inputs: outline %v, missing %v, live %q; want an outline naming the missing inputs", book, phase, p.Outline, p.Missing, p.Live)
			}
			if !slices.Equal(got, ids) {
				t.Errorf("%s --phase %s without inputs: steps %v, want %v", book, phase, got, ids)
			}
			text := bg(t, "plan", path, "--phase", phase, "--state", t.TempDir())
			text.wantCode(t, ExitOK)
			if !strings.Contains(text.stdout, "outline (inputs missing)") || !strings.Contains(text.stdout, "Outline only") || !strings.Contains(text.stdout, p.Missing[0]) {
				t.Errorf("%s --phase %s without inputs: the text does not say it is an outline and name %s:\n%s", book, phase, p.Missing[0], text.stdout)
			}
		}
		bg(t, "plan", path, "--phase", "deploy", "--state", t.TempDir()).wantCode(t, ExitInvalid)
	}
}

// planSteps decodes a JSON plan and returns it with its top-level step ids
// in order, after checking that every step belongs to phase.
func planSteps(t *testing.T, stdout, book, phase string) (engine.Plan, []string) {
	t.Helper()
	var p engine.Plan
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatalf("%s --phase %s: not JSON: %v\n%s", book, phase, err, stdout)
	}
	var got []string
	for _, s := range p.Steps {
		if s.Phase != phase {
			t.Errorf("%s --phase %s lists %s of phase %s", book, phase, s.Path, s.Phase)
		}
		// Steps inside a foreach (shift[0]/weights) count as their loop.
		top, _, _ := strings.Cut(s.Path, "/")
		top, _, _ = strings.Cut(top, "[")
		if !slices.Contains(got, top) {
			got = append(got, top)
		}
	}
	return p, got
}

// dummyInput is a well-typed value for a required input: plan with --live
// runs nothing, so the value only has to parse.
func dummyInput(in *engine.Input) string {
	switch in.Type {
	case steps.Int:
		return "8081"
	case steps.List:
		return "[x]"
	case steps.Bool:
		return "true"
	case steps.Duration:
		return "1s"
	}
	// Values that the step specs' rules accept (preflight checks them).
	switch {
	case strings.Contains(in.Name, "listener"):
		return "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2"
	case strings.Contains(in.Name, "zone"):
		return "Z123"
	case strings.Contains(in.Name, "url"):
		return "http://127.0.0.1:8080/"
	}
	return "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1"
}
