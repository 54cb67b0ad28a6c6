package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
	stepsoctopus "github.com/bluegreen-deploy/bluegreen/steps/octopus"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func noop() steps.Step {
	return steps.StepFunc(func(context.Context, *steps.Call) (steps.Outputs, error) { return nil, nil })
}

// connectionParams are the connection params steps/octopus declares; the
// generator leaves them out of the templates.
var connectionParams = stepsoctopus.ConnectionParams()

// fixtureRegistry holds one kind per template shape: an AWS kind with every
// param type, an Octopus kind with connection params and a sensitive one,
// and a plain kind without params.
func fixtureRegistry() *steps.Registry {
	r := steps.NewRegistry()
	r.Register(steps.Spec{
		Kind: "aws.route53.set-weights", Title: "Set Route53 weights", Summary: "Sets the weights of a weighted record set.",
		Doc:         "Each colour's record gets its weight; the others keep theirs.",
		Credentials: steps.AWSCredentials, Mutates: true, New: noop,
		Params: []steps.Param{
			{Name: "zone", Type: steps.String, Required: true, Doc: "Hosted zone id.", Examples: []any{"Z123"}},
			{Name: "name", Type: steps.String, Required: true, Doc: "Record name."},
			{Name: "weights", Type: steps.Map, Items: steps.Int, Required: true, Doc: "Weight per set identifier."},
			{Name: "ttl", Type: steps.Int, Default: 60, Doc: "Record TTL in seconds."},
			{Name: "wait", Type: steps.Bool, Default: true, Doc: "Wait for the change to be INSYNC."},
			{Name: "timeout", Type: steps.Duration, Default: 2 * time.Minute, Doc: "How long to wait."},
			{Name: "mode", Type: steps.String, Enum: []string{"upsert", "create"}, Default: "upsert", Doc: "How records are written."},
			{Name: "tags", Type: steps.List, Doc: "Extra tags."},
		},
		Outputs: []steps.Output{{Name: "change_id", Type: steps.String, Doc: "Route53 change id."}},
	})
	r.Register(steps.Spec{
		Kind: "octopus.variables.set", Title: "Set an Octopus variable", Summary: "Sets a project variable.",
		Credentials: steps.OctopusCredentials, Mutates: true, New: noop,
		Params: append([]steps.Param{
			{Name: "project", Type: steps.String, Required: true, Doc: "Project name or id."},
			{Name: "value", Type: steps.String, Required: true, Doc: "New value."},
			{Name: "secret", Type: steps.String, Sensitive: true, Doc: "A sensitive value."},
		}, connectionParams...),
	})
	r.Register(steps.Spec{Kind: "flow.log", Title: "Log a message", Summary: "Logs.", New: noop})
	return r
}

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

func TestGoldenTemplates(t *testing.T) {
	dir := filepath.Join("testdata", "golden")
	if *update {
		if _, err := Export(dir, fixtureRegistry(), fixedNow); err != nil {
			t.Fatal(err)
		}
	}
	// Exporting into a copy of the golden directory must change nothing:
	// same bytes, same versions, no file touched.
	tmp := t.TempDir()
	copyDir(t, dir, tmp)
	res, err := Export(tmp, fixtureRegistry(), fixedNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 0 || len(res.Removed) != 0 {
		t.Errorf("export of an unchanged registry changed %v, removed %v", res.Changed, res.Removed)
	}
	want := []string{"bluegreen-aws-route53-set-weights.json", "bluegreen-flow-log.json", "bluegreen-octopus-variables-set.json", "bluegreen-run-runbook.json"}
	if strings.Join(res.Written, ",") != strings.Join(want, ",") {
		t.Errorf("written %v, want %v", res.Written, want)
	}
	for _, f := range append(want, VersionsFile) {
		golden, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%v (run go test ./octopus -run TestGoldenTemplates -update)", err)
		}
		got, err := os.ReadFile(filepath.Join(tmp, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(golden, got) {
			t.Errorf("%s differs from the golden file (run with -update and review the diff)", f)
		}
	}
}

func TestGoldenTemplatesPassLibraryRules(t *testing.T) {
	for _, err := range ValidateLibrary(readTemplates(t, filepath.Join("testdata", "golden"))) {
		t.Error(err)
	}
}

func TestGeneratedTemplateShape(t *testing.T) {
	gen := Generate(fixtureRegistry())
	byKey := map[string]Template{}
	for _, g := range gen {
		byKey[g.Key] = g.Template
	}
	aws := byKey["aws.route53.set-weights"]
	if aws.ActionType != ActionAwsScript || aws.StepPackageID != ActionAwsScript || aws.Category != "aws" {
		t.Errorf("AWS kind: action type %s, step package %s, category %s", aws.ActionType, aws.StepPackageID, aws.Category)
	}
	controls := map[string]string{}
	defaults := map[string]string{}
	for _, p := range aws.Parameters {
		controls[p.Name] = p.DisplaySettings[controlTypeKey]
		if p.DefaultValue != nil {
			defaults[p.Name] = *p.DefaultValue
		}
	}
	for name, want := range map[string]string{
		"BlueGreen.zone": ControlSingleLine, "BlueGreen.weights": ControlMultiLine, "BlueGreen.tags": ControlMultiLine,
		"BlueGreen.wait": ControlCheckbox, "BlueGreen.mode": ControlSelect, "BlueGreen.timeout": ControlSingleLine,
		AWSAccountParam: ControlAwsAccount, PackageParam: ControlPackage,
	} {
		if controls[name] != want {
			t.Errorf("%s: control %q, want %q", name, controls[name], want)
		}
	}
	for name, want := range map[string]string{"BlueGreen.wait": "True", "BlueGreen.timeout": "2m0s", "BlueGreen.ttl": "60", "BlueGreen.mode": "upsert"} {
		if defaults[name] != want {
			t.Errorf("%s: default %q, want %q", name, defaults[name], want)
		}
	}
	body := aws.Properties["Octopus.Action.Script.ScriptBody"]
	for _, want := range []string{`param zone "BlueGreen.zone"`, `param weights "BlueGreen.weights"`, "step run aws.route53.set-weights", `chmod +x "$bin"`} {
		if !strings.Contains(body, want) {
			t.Errorf("AWS script lacks %q", want)
		}
	}

	oct := byKey["octopus.variables.set"]
	if oct.ActionType != ActionScript || oct.Category != "octopus" {
		t.Errorf("Octopus kind: %s %s", oct.ActionType, oct.Category)
	}
	for _, p := range oct.Parameters {
		for _, c := range connectionParams {
			if p.Name == paramPrefix+c.Name {
				t.Errorf("connection param %s exported; the script sets it from the deployment", p.Name)
			}
		}
		if p.Name == "BlueGreen.secret" && (p.DisplaySettings[controlTypeKey] != ControlSensitive || p.DefaultValue != nil) {
			t.Errorf("sensitive param: %+v", p)
		}
	}
	if !strings.Contains(oct.Properties["Octopus.Action.Script.ScriptBody"], "export OCTOPUS_URL OCTOPUS_SPACE OCTOPUS_API_KEY") {
		t.Error("Octopus script does not export the connection")
	}

	rb := byKey[RunbookKey]
	if rb.Name != RunbookTemplateName || len(rb.Packages) != 2 {
		t.Errorf("runbook template: %s with %d packages", rb.Name, len(rb.Packages))
	}
}

func TestStableIDs(t *testing.T) {
	a, b := Generate(fixtureRegistry()), Generate(fixtureRegistry())
	for i := range a {
		if a[i].Template.ID != b[i].Template.ID {
			t.Errorf("%s: id changed between generations", a[i].Key)
		}
	}
	if stableID("template:x") == stableID("template:y") {
		t.Error("different names give the same id")
	}
	// RFC 9562 appendix test vector shape: version 5 and the RFC variant.
	id := stableID("anything")
	if id[14] != '5' || !strings.ContainsRune("89ab", rune(id[19])) {
		t.Errorf("%s is not a version 5 UUID", id)
	}
}

func TestVersionBumpsOnlyOnChange(t *testing.T) {
	dir := t.TempDir()
	reg := fixtureRegistry()
	if _, err := Export(dir, reg, fixedNow); err != nil {
		t.Fatal(err)
	}
	// Change one spec's doc: only that template gets a new version.
	changed := steps.NewRegistry()
	for _, s := range reg.All() {
		c := *s
		if c.Kind == "flow.log" {
			c.Summary = "Logs a message at info level."
		}
		changed.Register(c)
	}
	later := fixedNow.Add(24 * time.Hour)
	res, err := Export(dir, changed, later)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Changed, ",") != "flow.log" {
		t.Fatalf("changed %v, want [flow.log]", res.Changed)
	}
	lock, err := ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k, e := range lock {
		wantV, wantAt := 1, fixedNow.Format(exportedAtLayout)
		if k == "flow.log" {
			wantV, wantAt = 2, later.Format(exportedAtLayout)
		}
		if e.Version != wantV || e.ExportedAt != wantAt {
			t.Errorf("%s: version %d at %s, want %d at %s", k, e.Version, e.ExportedAt, wantV, wantAt)
		}
	}
	if diffs, err := Stale(dir, changed); err != nil || len(diffs) != 0 {
		t.Errorf("fresh export reported stale: %v %v", diffs, err)
	}
	if diffs, _ := Stale(dir, reg); len(diffs) == 0 {
		t.Error("Stale did not notice a registry that differs from the export")
	}
}

// TestStaleTemplateFiles checks that a template file no step generates any
// more is reported by Stale and deleted by Export, and that other files in
// the folder are left alone.
func TestStaleTemplateFiles(t *testing.T) {
	dir := t.TempDir()
	reg := fixtureRegistry()
	if _, err := Export(dir, reg, fixedNow); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"bluegreen-gone-kind.json", "README.md"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	diffs, err := Stale(dir, reg)
	if err != nil || len(diffs) != 1 || !strings.Contains(diffs[0], "bluegreen-gone-kind.json: no step generates it") {
		t.Fatalf("Stale = %v, %v; want the removed kind's file only", diffs, err)
	}
	res, err := Export(dir, reg, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Removed, ",") != "bluegreen-gone-kind.json" {
		t.Errorf("removed %v, want [bluegreen-gone-kind.json]", res.Removed)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Errorf("export touched a file that is not a template: %v", err)
	}
	if diffs, err := Stale(dir, reg); err != nil || len(diffs) != 0 {
		t.Errorf("after export Stale = %v, %v", diffs, err)
	}
}

func TestValidatorCatchesViolations(t *testing.T) {
	gen := Generate(fixtureRegistry())
	Stamp(gen, Lock{}, fixedNow)
	good := gen[0].Template
	tests := []struct {
		name   string
		mutate func(*Template)
		want   string
	}{
		{"substitution in script", func(t *Template) {
			t.Properties["Octopus.Action.Script.ScriptBody"] += "\necho #{BlueGreen.zone}\n"
		}, "#{...}"},
		{"feed id", func(t *Template) { f := "feeds-builtin"; t.Packages[0].FeedID = &f }, "FeedId"},
		{"zero id", func(t *Template) { t.ID = "00000000-0000-0000-0000-000000000000" }, "all zeros"},
		{"no exported at", func(t *Template) { t.Meta.ExportedAt = "" }, "ExportedAt"},
		{"no author", func(t *Template) { t.LastModifiedBy = "" }, "LastModifiedBy"},
		{"category", func(t *Template) { t.Category = "bluegreen" }, "logo"},
		{"unused param", func(t *Template) {
			t.Parameters = append(t.Parameters, fixedParam("x", "BlueGreen.unused", "Unused", "Never read.", "", ControlSingleLine))
		}, "never used"},
		{"checkbox default", func(t *Template) {
			for i := range t.Parameters {
				if t.Parameters[i].DisplaySettings[controlTypeKey] == ControlCheckbox {
					v := "yes"
					t.Parameters[i].DefaultValue = &v
				}
			}
		}, "Checkbox"},
		{"long name", func(t *Template) { t.Name = strings.Repeat("x", 201) }, "200"},
		{"no packages", func(t *Template) { t.Packages = nil }, `no package reference named "bluegreen"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl := cloneTemplate(t, good)
			tt.mutate(&tpl)
			b, err := Render(tpl)
			if err != nil {
				t.Fatal(err)
			}
			errs := ValidateLibrary(map[string][]byte{"t.json": b})
			found := false
			for _, e := range errs {
				found = found || strings.Contains(e.Error(), tt.want)
			}
			if !found {
				t.Errorf("no error mentioning %q; got %v", tt.want, errs)
			}
		})
	}
	// Duplicates across files.
	b, _ := Render(good)
	errs := ValidateLibrary(map[string][]byte{"a.json": b, "b.json": b, "c.txt": append([]byte("\xef\xbb\xbf"), b...)})
	for _, want := range []string{"also used by", "*.json", "byte-order mark"} {
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e.Error(), want)
		}
		if !found {
			t.Errorf("no error mentioning %q; got %v", want, errs)
		}
	}
}

func cloneTemplate(t *testing.T, tpl Template) Template {
	t.Helper()
	b, err := Render(tpl)
	if err != nil {
		t.Fatal(err)
	}
	var c Template
	if err := jsonUnmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func readTemplates(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		if filepath.Base(f) == VersionsFile {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	if len(out) == 0 {
		t.Fatalf("no templates in %s", dir)
	}
	return out
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatalf("%v (run go test ./octopus -run TestGoldenTemplates -update)", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
