package octopus

import (
	"strings"
	"testing"
)

// TestVariablesOnGitProject: on a Config-as-Code project the variables
// steps read and write the Git branch (the default one unless git_ref
// says otherwise), leave the sensitive variables in the database alone,
// and undo on the branch they changed.
func TestVariablesOnGitProject(t *testing.T) {
	f := newFixture(t)
	gp := f.srv.AddGitProject(f.space, "Shop", "main")
	prompt := map[string]any{"Label": "Channel", "Description": "", "Required": true,
		"DisplaySettings": map[string]any{"Octopus.ControlType": "Select", "Octopus.SelectOptions": "stable|Stable\ncanary\nbeta|Beta"}}
	f.srv.SetGitVariablesJSON(f.space, gp, "main", []map[string]any{
		{"Name": "BlueGreen.Live", "Value": "blue", "Type": "String", "IsSensitive": false, "IsEditable": true, "Description": nil, "Prompt": nil, "Scope": map[string]any{}},
		{"Name": "Release.Channel", "Value": "stable", "Type": "String", "IsSensitive": false, "IsEditable": true, "Description": nil, "Prompt": prompt, "Scope": map[string]any{}},
	})
	f.srv.SetVariablesJSON(f.space, gp, []map[string]any{
		{"Name": "Db.Password", "Value": "s3cret", "Type": "Sensitive", "IsSensitive": true, "IsEditable": true, "Description": nil, "Prompt": nil, "Scope": map[string]any{}},
	})
	f.srv.AddBranch(f.space, gp, "release/1.2")
	dbBefore := canonical(t, f.srv.VariableSetJSON(f.space, gp))

	out, _ := mustRun(t, "octopus.variables.get", map[string]any{"project": "Shop", "name": "BlueGreen.Live"})
	if out["value"] != "blue" || out["found"] != true {
		t.Fatalf("get from the default branch: %v", out)
	}
	out, _ = mustRun(t, "octopus.variables.get", map[string]any{"project": "Shop", "name": "Db.Password"})
	if out["found"] != true || out["sensitive"] != true || out["value"] != "" {
		t.Fatalf("get of a sensitive variable (in the database): %v", out)
	}

	mainBefore := f.srv.GitVariablesJSON(f.space, gp, "main")
	_, undos := mustRun(t, "octopus.variables.set", map[string]any{"project": "Shop", "name": "BlueGreen.Live", "value": "green"})
	mainAfter := f.srv.GitVariablesJSON(f.space, gp, "main")
	if v := mainAfter["Variables"].([]any)[0].(map[string]any)["Value"]; v != "green" {
		t.Fatalf("BlueGreen.Live on main = %v", v)
	}
	if canonical(t, mainAfter["Variables"].([]any)[1]) != canonical(t, mainBefore["Variables"].([]any)[1]) {
		t.Errorf("the prompted variable on main changed: %s", canonical(t, mainAfter["Variables"].([]any)[1]))
	}
	if got := canonical(t, f.srv.VariableSetJSON(f.space, gp)); got != dbBefore {
		t.Errorf("the database (sensitive) set changed:\n%s\nwant\n%s", got, dbBefore)
	}
	if len(undos) != 1 || undos[0].Params["git_ref"] != "main" {
		t.Fatalf("the undo must name the branch: %+v", undos)
	}

	mustRun(t, "octopus.variables.set", map[string]any{"project": "Shop", "name": "BlueGreen.Live", "value": "green", "git_ref": "refs/heads/release/1.2"})
	rel := f.srv.GitVariablesJSON(f.space, gp, "release/1.2")
	if v := rel["Variables"].([]any)[0].(map[string]any)["Value"]; v != "green" {
		t.Errorf("BlueGreen.Live on release/1.2 = %v", v)
	}

	applyUndos(t, undos)
	if v := f.srv.GitVariablesJSON(f.space, gp, "main")["Variables"].([]any)[0].(map[string]any)["Value"]; v != "blue" {
		t.Errorf("after the undo BlueGreen.Live on main = %v, want blue", v)
	}
	for _, v := range f.srv.Variables(f.space, gp) {
		if v.Name == "Db.Password" && v.Value != "s3cret" {
			t.Errorf("the secret changed to %q", v.Value)
		}
	}

	if _, _, err := run(t, "octopus.variables.set", map[string]any{"project": "Shop", "name": "Db.Password", "value": "x"}, false); err == nil || !strings.Contains(err.Error(), "sensitive") {
		t.Errorf("setting a sensitive variable of a Git project: %v", err)
	}
	webBefore := canonical(t, f.srv.VariableSetJSON(f.space, f.proj))
	if _, _, err := run(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green", "git_ref": "main"}, false); err == nil || !strings.Contains(err.Error(), "git_ref") {
		t.Errorf("git_ref on a database project: %v", err)
	}
	if canonical(t, f.srv.VariableSetJSON(f.space, f.proj)) != webBefore {
		t.Error("a refused write changed the database project's variables")
	}
	if _, _, err := run(t, "octopus.variables.get", map[string]any{"project": "Shop", "name": "BlueGreen.Live", "git_ref": "nope"}, false); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an unknown branch: %v", err)
	}
}
