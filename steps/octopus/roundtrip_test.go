package octopus

import (
	"encoding/json"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// canonical renders a JSON value with sorted keys: two values are the same
// JSON exactly when their canonical bytes are equal.
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// without returns a copy of m without the keys bluegreen owns.
func without(m map[string]any, owned ...string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range owned {
		delete(out, k)
	}
	return out
}

// roundTripFixture adds what go-octopusdeploy's types do not carry to the
// standard fixture: a prompted Select variable whose options have and
// lack display texts, a sensitive variable, variables scoped to roles and
// tenant tags, a field of a newer server on a variable, a step-package
// (ECS) target, a tenanted target and an SSH target with newer fields.
func roundTripFixture(t *testing.T) (*fixture, []string) {
	f := newFixture(t)
	f.srv.Newer("VariableResource", "FutureSetting")
	f.srv.Newer("DeploymentTargetResource", "Slug", "Architecture", "FutureSetting")
	f.srv.NewerEnum("EndpointResource", "CommunicationStyle", "StepPackage")
	f.srv.SetVariablesJSON(f.space, f.proj, []map[string]any{
		{"Name": "BlueGreen.Live", "Value": "blue", "Type": "String", "IsSensitive": false, "IsEditable": true, "Description": "set by bluegreen", "Prompt": nil, "Scope": map[string]any{}},
		{"Name": "Release.Channel", "Value": "stable", "Type": "String", "IsSensitive": false, "IsEditable": true, "Description": nil, "Scope": map[string]any{},
			"Prompt": map[string]any{"Label": "Channel", "Description": "Which channel to release", "Required": true,
				"DisplaySettings": map[string]any{"Octopus.ControlType": "Select", "Octopus.SelectOptions": "stable|Stable\ncanary\nbeta|Beta"}}},
		{"Name": "Db.Password", "Value": "s3cret", "Type": "Sensitive", "IsSensitive": true, "IsEditable": true, "Description": nil, "Prompt": nil, "Scope": map[string]any{}},
		{"Name": "BlueGreen.Live", "Value": "green", "Type": "String", "IsSensitive": false, "IsEditable": false, "Description": nil, "Prompt": nil,
			"Scope": map[string]any{"Role": []any{"web-blue"}, "TenantTag": []any{"Region/EU"}}},
		{"Name": "Feature.Flags", "Value": "a,b", "Type": "String", "IsSensitive": false, "IsEditable": true, "Description": nil, "Prompt": nil,
			"Scope": map[string]any{"Environment": []any{f.prod}}, "FutureSetting": map[string]any{"Kept": []any{1, 2.5, "x"}}},
	})
	ecs := f.srv.AddMachineJSON(f.space, map[string]any{
		"Name": "web-blue-ecs", "Roles": []any{"web-blue"}, "EnvironmentIds": []any{f.prod}, "IsDisabled": false,
		"HealthStatus": "Healthy", "Status": "Online", "StatusSummary": "", "HasLatestCalamari": true, "IsInProcess": false,
		"MachinePolicyId": "MachinePolicies-1", "TenantedDeploymentParticipation": "Untenanted", "TenantIds": []any{}, "TenantTags": []any{},
		"Slug": "web-blue-ecs",
		"Endpoint": map[string]any{"CommunicationStyle": "StepPackage", "Id": nil, "Links": map[string]any{},
			"DeploymentTargetTypeId": "aws-ecs-target", "StepPackageId": "aws-ecs-target", "StepPackageVersion": "1.4.2",
			"Inputs": map[string]any{"clusterName": "prod-cluster", "region": "eu-west-1",
				"authentication": map[string]any{"credentials": map[string]any{"type": "account", "account": "Accounts-7"}, "role": map[string]any{"type": "noAssumedRole"}}},
			"DefaultWorkerPoolId": "WorkerPools-3"},
	})
	tenanted := f.srv.AddMachineJSON(f.space, map[string]any{
		"Name": "web-green-eu", "Roles": []any{"web-green", "eu"}, "EnvironmentIds": []any{f.preprod}, "IsDisabled": false,
		"HealthStatus": "Healthy", "Status": "Online", "StatusSummary": "", "HasLatestCalamari": true, "IsInProcess": false,
		"MachinePolicyId": "MachinePolicies-2", "TenantedDeploymentParticipation": "Tenanted", "TenantIds": []any{"Tenants-1", "Tenants-4"},
		"TenantTags": []any{"Region/EU"}, "Slug": "web-green-eu", "Architecture": "arm64", "FutureSetting": map[string]any{"Any": true},
		"Endpoint": map[string]any{"CommunicationStyle": "Ssh", "Id": nil, "Links": map[string]any{}, "Host": "10.0.0.7", "Port": 22,
			"Fingerprint": "SHA256:abc", "AccountId": "Accounts-2", "DotNetCorePlatform": "linux-arm64", "ProxyId": nil},
	})
	return f, []string{ecs, tenanted, f.blue1, f.grn1}
}

// TestSwapWritesOnlyWhatItOwns is the reproduction: after the
// swap's Octopus steps (retag, move-environment, variables.set) every
// field bluegreen does not own is byte-for-byte what it was, including a
// prompted Select variable's options and a step-package target's
// endpoint; and after the undos everything is as it was.
func TestSwapWritesOnlyWhatItOwns(t *testing.T) {
	f, machines := roundTripFixture(t)
	beforeMachines := map[string]map[string]any{}
	for _, id := range machines {
		beforeMachines[id] = f.srv.MachineJSON(f.space, id)
	}
	beforeVars := f.srv.VariableSetJSON(f.space, f.proj)

	var undos [][]steps.Undo
	_, u1 := mustRun(t, "octopus.targets.retag", map[string]any{"role": "web-blue", "add_roles": []any{"web-idle"}, "remove_roles": []any{"web-live"}})
	_, u2 := mustRun(t, "octopus.targets.retag", map[string]any{"role": "web-green", "add_roles": []any{"web-live"}, "remove_roles": []any{"web-idle"}})
	_, u3 := mustRun(t, "octopus.targets.move-environment", map[string]any{"role": "web-green", "from": "Pre-Production", "to": "Production"})
	_, u4 := mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green"})
	_, u5 := mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Idle", "value": "blue"})
	undos = append(undos, u1, u2, u3, u4, u5)

	checks := 0
	for _, id := range machines {
		after := f.srv.MachineJSON(f.space, id)
		if got, want := canonical(t, without(after, "Roles", "EnvironmentIds")), canonical(t, without(beforeMachines[id], "Roles", "EnvironmentIds")); got != want {
			t.Errorf("target %s changed beyond Roles and EnvironmentIds:\nbefore %s\nafter  %s", id, want, got)
		}
		checks++
	}
	if got := f.srv.Machine(f.space, machines[0]).Roles; canonical(t, got) != `["web-blue","web-idle"]` {
		t.Errorf("the ECS target was not retagged: %v", got)
	}
	if got := f.srv.Machine(f.space, machines[1]).EnvironmentIDs; canonical(t, got) != canonical(t, []string{f.prod}) {
		t.Errorf("the tenanted target was not moved: %v", got)
	}

	afterVars := f.srv.VariableSetJSON(f.space, f.proj)
	bv, av := beforeVars["Variables"].([]any), afterVars["Variables"].([]any)
	if len(av) != len(bv)+1 {
		t.Fatalf("%d variables after, want %d (one created)", len(av), len(bv)+1)
	}
	for i := range bv {
		b, a := bv[i].(map[string]any), av[i].(map[string]any)
		if i == 0 {
			if a["Value"] != "green" {
				t.Errorf("BlueGreen.Live = %v, want green", a["Value"])
			}
			b, a = without(b, "Value"), without(a, "Value")
		}
		if canonical(t, a) != canonical(t, b) {
			t.Errorf("variable %d changed:\nbefore %s\nafter  %s", i, canonical(t, b), canonical(t, a))
		}
		checks++
	}
	if got := canonical(t, without(afterVars, "Variables", "Version")); got != canonical(t, without(beforeVars, "Variables", "Version")) {
		t.Errorf("variable set fields changed: %s", got)
	}
	checks++
	for _, v := range f.srv.Variables(f.space, f.proj) {
		if v.Name == "Db.Password" && v.Value != "s3cret" {
			t.Errorf("the sensitive variable's secret changed to %q", v.Value)
		}
	}

	for i := len(undos) - 1; i >= 0; i-- {
		applyUndos(t, undos[i])
	}
	for _, id := range machines {
		if got, want := canonical(t, f.srv.MachineJSON(f.space, id)), canonical(t, beforeMachines[id]); got != want {
			t.Errorf("target %s after the undo:\n%s\nwant\n%s", id, got, want)
		}
		checks++
	}
	if got, want := canonical(t, without(f.srv.VariableSetJSON(f.space, f.proj), "Version")), canonical(t, without(beforeVars, "Version")); got != want {
		t.Errorf("variable set after the undo:\n%s\nwant\n%s", got, want)
	}
	checks++
	t.Logf("%d byte-for-byte round-trip checks", checks)
}

// TestVariablesSetKeepsPromptedSelect: setting one variable sends every
// other one back as it was; a prompted Select variable keeps all three of
// its options, "canary" (no display text) included.
func TestVariablesSetKeepsPromptedSelect(t *testing.T) {
	f, _ := roundTripFixture(t)
	before := f.srv.VariableSetJSON(f.space, f.proj)["Variables"].([]any)[1]
	mustRun(t, "octopus.variables.set", map[string]any{"project": "Web", "name": "BlueGreen.Live", "value": "green"})
	after := f.srv.VariableSetJSON(f.space, f.proj)["Variables"].([]any)[1]
	if canonical(t, after) != canonical(t, before) {
		t.Errorf("the prompted variable changed:\nbefore %s\nafter  %s", canonical(t, before), canonical(t, after))
	}
	opts := after.(map[string]any)["Prompt"].(map[string]any)["DisplaySettings"].(map[string]any)["Octopus.SelectOptions"]
	if opts != "stable|Stable\ncanary\nbeta|Beta" {
		t.Errorf("select options = %q", opts)
	}
}
