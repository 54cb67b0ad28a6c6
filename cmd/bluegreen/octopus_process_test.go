package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
)

// processServer is an Octopus server with the step templates synced, a
// project "Web" whose process already holds one step bluegreen does not
// own, and the two environments env-swap uses.
func processServer(t *testing.T) (*octopustest.Server, string) {
	t.Helper()
	srv := octopustest.New(t)
	t.Setenv(octopus.EnvURL, srv.URL)
	t.Setenv(octopus.EnvAPIKey, srv.APIKey)
	t.Setenv(octopus.EnvSpace, "")
	space := octopustest.DefaultSpaceID
	proj := srv.AddProject(space, "Web")
	srv.AddEnvironment(space, "Production")
	srv.AddEnvironment(space, "Pre-Production")
	srv.SetProcessSteps(space, proj, []octopustest.ProcessStep{notifyStep()})
	bg(t, "octopus", "sync").wantCode(t, ExitOK)
	return srv, proj
}

func notifyStep() octopustest.ProcessStep {
	return octopustest.ProcessStep{"Name": "Notify the team", "Condition": "Always", "Properties": map[string]any{},
		"Actions": []any{map[string]any{"Name": "Notify the team", "ActionType": "Octopus.Script", "Notes": "ours, not bluegreen's",
			"Properties": map[string]any{"Octopus.Action.Script.ScriptBody": "echo deploying", "Octopus.Action.RunOnServer": "true"}}}}
}

func stepNames(p map[string]any) []string {
	var out []string
	for _, s := range p["Steps"].([]any) {
		out = append(out, s.(map[string]any)["Name"].(string))
	}
	return out
}

func stepNamed(t *testing.T, p map[string]any, name string) (step, action, props map[string]any) {
	t.Helper()
	for _, s := range p["Steps"].([]any) {
		sm := s.(map[string]any)
		if sm["Name"] == name {
			a := sm["Actions"].([]any)[0].(map[string]any)
			return sm, a, a["Properties"].(map[string]any)
		}
	}
	t.Fatalf("no step %q in %v", name, stepNames(p))
	return nil, nil, nil
}

const putProcess = `/deploymentprocesses/`

// TestOctopusProcessCreatesOnceAndKeepsForeignSteps: the first run writes
// the five owned steps after the team's own step; the second changes
// nothing (no PUT); a foreign step moved between owned ones stays there,
// and fields bluegreen does not own survive.
func TestOctopusProcessCreatesOnceAndKeepsForeignSteps(t *testing.T) {
	srv, proj := processServer(t)
	space := octopustest.DefaultSpaceID
	args := []string{"octopus", "process", "Web", "--strategy", "alb-weighted", "--package", "webapp", "--approval", "--target-role", "app"}

	before := len(srv.Requests())
	r := bg(t, args...)
	r.wantCode(t, ExitOK)
	t.Logf("first run: %d requests", len(srv.Requests())-before)
	if !strings.Contains(r.stdout, "written") {
		t.Errorf("first run:\n%s", r.stdout)
	}
	p := srv.Process(space, proj)
	want := []string{"Notify the team", "Blue-Green prepare", "Blue-Green deploy to idle", "Blue-Green approve", "Blue-Green promote", "Blue-Green cleanup"}
	if got := stepNames(p); !slices.Equal(got, want) {
		t.Fatalf("steps %v, want %v", got, want)
	}
	if p["Version"] != float64(2) && p["Version"] != 2 {
		t.Errorf("Version %v after one write, want 2", p["Version"])
	}
	tmpl := srv.Template(space, templates.RunbookTemplateName)
	for _, phase := range []string{"prepare", "promote", "cleanup"} {
		_, a, props := stepNamed(t, p, "Blue-Green "+phase)
		if props["BlueGreen.Runbook.Phase"] != phase || props["Octopus.Action.Template.Id"] != tmpl["Id"] || a["ActionType"] != tmpl["ActionType"] {
			t.Errorf("%s: phase %v, template %v (want %v), type %v", phase, props["BlueGreen.Runbook.Phase"], props["Octopus.Action.Template.Id"], tmpl["Id"], a["ActionType"])
		}
		if !strings.Contains(props["BlueGreen.Runbook.Yaml"].(string), "name: alb-weighted") {
			t.Errorf("%s: the runbook is not inline", phase)
		}
		in := props["BlueGreen.Runbook.Inputs"].(string)
		for _, line := range []string{"listener_arn=#{BlueGreen.Input.listener_arn}", "octopus_project=#{Octopus.Project.Name}", "target_role=app", "wait_for_targets=true", "#{if BlueGreen.Input.ami}ami=#{BlueGreen.Input.ami}#{/if}"} {
			if !slices.Contains(strings.Split(in, "\n"), line) {
				t.Errorf("%s: inputs lack %q:\n%s", phase, line, in)
			}
		}
	}
	deploy, a, props := stepNamed(t, p, "Blue-Green deploy to idle")
	if deploy["Properties"].(map[string]any)["Octopus.Action.TargetRoles"] != "app-idle" || a["ActionType"] != "Octopus.TentaclePackage" || props["Octopus.Action.Package.PackageId"] != "webapp" {
		t.Errorf("deploy step %v", deploy)
	}
	if _, a, _ := stepNamed(t, p, "Blue-Green approve"); a["ActionType"] != "Octopus.Manual" {
		t.Errorf("approve: %v", a)
	}
	if _, a, _ := stepNamed(t, p, "Notify the team"); a["Notes"] != "ours, not bluegreen's" {
		t.Errorf("foreign step changed: %v", a)
	}

	// Again: nothing to change, nothing written.
	puts := srv.CountRequests("PUT", putProcess)
	before = len(srv.Requests())
	r = bg(t, args...)
	r.wantCode(t, ExitOK)
	t.Logf("second run: %d requests, %d PUT", len(srv.Requests())-before, srv.CountRequests("PUT", putProcess)-puts)
	if !strings.Contains(r.stdout, "unchanged") || srv.CountRequests("PUT", putProcess) != puts {
		t.Errorf("second run wrote (%d PUTs before, %d after):\n%s", puts, srv.CountRequests("PUT", putProcess), r.stdout)
	}

	// Someone moves their step between approve and promote and writes a
	// note on promote: both survive, and still nothing is written.
	steps := p["Steps"].([]any)
	moved := []octopustest.ProcessStep{steps[1].(map[string]any), steps[2].(map[string]any), steps[3].(map[string]any), steps[0].(map[string]any), steps[4].(map[string]any), steps[5].(map[string]any)}
	moved[4]["Actions"].([]any)[0].(map[string]any)["Notes"] = "watch the dashboard"
	srv.SetProcessSteps(space, proj, moved)
	puts = srv.CountRequests("PUT", putProcess)
	bg(t, args...).wantCode(t, ExitOK)
	p = srv.Process(space, proj)
	want = []string{"Blue-Green prepare", "Blue-Green deploy to idle", "Blue-Green approve", "Notify the team", "Blue-Green promote", "Blue-Green cleanup"}
	if got := stepNames(p); !slices.Equal(got, want) || srv.CountRequests("PUT", putProcess) != puts {
		t.Errorf("after moving the foreign step: %v (PUTs %d → %d), want %v", got, puts, srv.CountRequests("PUT", putProcess), want)
	}
	if _, a, _ := stepNamed(t, p, "Blue-Green promote"); a["Notes"] != "watch the dashboard" {
		t.Errorf("a field bluegreen does not own was lost: %v", a)
	}

	// Without --approval, in a dry run: the JSON it would write lacks the
	// approval, and the server's process is untouched.
	dry := bg(t, "octopus", "process", "Web", "--strategy", "alb-weighted", "--package", "webapp", "--target-role", "app", "--dry-run")
	dry.wantCode(t, ExitOK)
	js := dry.stdout[:strings.LastIndex(dry.stdout, "}")+1]
	var would map[string]any
	if err := json.Unmarshal([]byte(js), &would); err != nil {
		t.Fatalf("dry run did not print JSON: %v\n%s", err, dry.stdout)
	}
	if got := stepNames(would); slices.Contains(got, "Blue-Green approve") || len(got) != 5 {
		t.Errorf("dry run would write %v", got)
	}
	if !strings.Contains(dry.stdout, "remove  Blue-Green approve") || srv.CountRequests("PUT", putProcess) != puts {
		t.Errorf("dry run wrote or did not say what it would remove:\n%s", dry.stdout)
	}
	if got := stepNames(srv.Process(space, proj)); !slices.Equal(got, want) {
		t.Errorf("dry run changed the process: %v", got)
	}
}

// TestOctopusProcessStrategies: same-host deploys into the idle copy's
// folder named by prepare; env-swap deploys in pre-prod and swaps in prod.
func TestOctopusProcessStrategies(t *testing.T) {
	srv, proj := processServer(t)
	space := octopustest.DefaultSpaceID
	bg(t, "octopus", "process", "Web", "--strategy", "same-host", "--package", "webapp").wantCode(t, ExitOK)
	p := srv.Process(space, proj)
	step, _, props := stepNamed(t, p, "Blue-Green deploy to idle")
	if props["Octopus.Action.Package.CustomInstallationDirectory"] != "#{Octopus.Action[Blue-Green prepare].Output.BlueGreen.IdleDir}" ||
		step["Properties"].(map[string]any)["Octopus.Action.TargetRoles"] != "web" {
		t.Errorf("same-host deploy step: %v", step)
	}
	if got := len(stepNames(p)); got != 5 {
		t.Errorf("same-host: %d steps, want the foreign one and four owned", got)
	}

	// Switching the project to env-swap rewrites the owned steps in place.
	bg(t, "octopus", "process", "Web", "--strategy", "env-swap", "--package", "webapp").wantCode(t, ExitOK)
	p = srv.Process(space, proj)
	envID := func(name string) string {
		for _, e := range []string{"Environments-1", "Environments-2"} {
			if (name == "Production") == (e == "Environments-1") {
				return e
			}
		}
		return ""
	}
	_, deploy, _ := stepNamed(t, p, "Blue-Green deploy to idle")
	_, promote, props := stepNamed(t, p, "Blue-Green promote")
	if !slices.Equal(toStrings(deploy["Environments"]), []string{envID("Pre-Production")}) || !slices.Equal(toStrings(promote["Environments"]), []string{envID("Production")}) {
		t.Errorf("env-swap scopes: deploy %v, promote %v", deploy["Environments"], promote["Environments"])
	}
	if !strings.Contains(props["BlueGreen.Runbook.Inputs"].(string), "prod_environment=Production") {
		t.Errorf("env-swap inputs: %s", props["BlueGreen.Runbook.Inputs"])
	}

	puts := srv.CountRequests("PUT", putProcess)
	bg(t, "octopus", "process", "Web", "--strategy", "blue-only", "--package", "webapp").wantCode(t, ExitInvalid)
	bg(t, "octopus", "process", "Web", "--strategy", "env-swap").wantCode(t, ExitInvalid)
	if r := bg(t, "octopus", "process", "Nope", "--strategy", "env-swap", "--package", "webapp"); r.code == ExitOK || !strings.Contains(r.stderr, `"Nope"`) {
		t.Errorf("unknown project: exit %d\n%s", r.code, r.stderr)
	}
	if srv.CountRequests("PUT", putProcess) != puts {
		t.Error("bad input wrote the process")
	}
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}
