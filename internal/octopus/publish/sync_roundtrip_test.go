package publish_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/publish"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/templates"
)

// TestSyncWritesOnlyWhatItOwns: sync finds a template under its old
// "Blue/Green - " name, renames it in place (same id, so the steps that
// use it stay linked) and changes only the fields bluegreen owns; a field
// of a newer server and the community template link come back as they
// were. New templates are created with a null FeedId, as the Library has it.
func TestSyncWritesOnlyWhatItOwns(t *testing.T) {
	srv := octopustest.New(t)
	srv.Newer("ActionTemplateResource", "FutureSetting")
	c := srv.Connect(t)
	old := map[string]any{"Name": "Blue/Green - Log", "Description": "old", "ActionType": "Octopus.Script",
		"CommunityActionTemplateId": "CommunityActionTemplates-9", "FutureSetting": map[string]any{"Keep": []any{"me", 1}},
		"Properties": map[string]any{"Octopus.Action.Script.ScriptBody": "echo old"}, "Parameters": []any{}, "Packages": []any{}}
	id := srv.AddTemplateJSON(c.SpaceID, old)
	before := srv.Template(c.SpaceID, "Blue/Green - Log")

	res, err := publish.Sync(c, templates.Generate(registry("Logs a message.")), publish.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 1 || res.Updated[0] != "Blue-Green - Log" || len(res.Created) != 3 {
		t.Fatalf("sync: %+v", res)
	}
	after := srv.Template(c.SpaceID, "Blue-Green - Log")
	if after == nil || after["Id"] != id || srv.Template(c.SpaceID, "Blue/Green - Log") != nil {
		t.Fatalf("the template was not renamed in place: %v", after)
	}
	owned := []string{"Name", "Description", "ActionType", "Properties", "Parameters", "Packages", "Version"}
	for _, m := range []map[string]any{before, after} {
		for _, k := range owned {
			delete(m, k)
		}
	}
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("fields bluegreen does not own changed:\nbefore %s\nafter  %s", b1, b2)
	}
	for _, tm := range srv.Templates(c.SpaceID) {
		for _, p := range tm["Packages"].([]any) {
			pm := p.(map[string]any)
			if v, ok := pm["FeedId"]; !ok || v != nil {
				t.Errorf("%s: package %s has FeedId %#v, want null", tm["Name"], pm["Name"], v)
			}
		}
	}
}

// TestSyncUpdatesGitStoredUsages: a step in a process stored in Git (a
// Config-as-Code project) is moved to the new template version on its
// branch (GitRef), beside the database ones; when the server will not
// update a Git-stored step, sync lists it as needing a manual change
// instead of failing.
func TestSyncUpdatesGitStoredUsages(t *testing.T) {
	srv := octopustest.New(t)
	c := srv.Connect(t)
	if _, err := publish.Sync(c, templates.Generate(registry("v0")), publish.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	id := srv.Template(c.SpaceID, "Blue-Green - Log")["Id"].(string)
	srv.AddUsage(c.SpaceID, id, octopustest.Usage{ProjectID: "Projects-1", ProcessID: "deploymentprocess-Projects-1", ActionID: "a1", ActionName: "Log"})
	srv.AddUsage(c.SpaceID, id, octopustest.Usage{ProjectID: "Projects-2", ProcessID: "deploymentprocess-Projects-2", ActionID: "a2", ActionName: "Log", Branch: "main"})
	srv.AddUsage(c.SpaceID, id, octopustest.Usage{ProjectID: "Projects-3", ProcessID: "deploymentprocess-Projects-3", ActionID: "a3", ActionName: "Log", Branch: "develop"})

	res, err := publish.Sync(c, templates.Generate(registry("v1")), publish.SyncOptions{UpdateUsages: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := srv.UsageVersions(c.SpaceID, id); got["a1"] != 1 || got["a2"] != 1 || got["a3"] != 1 {
		t.Errorf("usage versions after sync: %v", got)
	}
	refs := map[string]string{}
	for _, u := range res.Usages {
		refs[u.ActionID] = u.GitRef + "/" + u.Outcome
	}
	if refs["a1"] != "/Success" || refs["a2"] != "main/Success" || refs["a3"] != "develop/Success" {
		t.Errorf("usages: %v", refs)
	}
	if n := srv.CountRequests("POST", "/actionsUpdate$"); n != 3 {
		t.Errorf("%d actionsUpdate calls, want one per branch and one for the database (3)", n)
	}

	// A server that refuses the branch (say it is protected): the step is
	// listed as needing a manual change, and the sync goes on.
	srv = octopustest.New(t)
	c = srv.Connect(t)
	if _, err := publish.Sync(c, templates.Generate(registry("v0")), publish.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	id = srv.Template(c.SpaceID, "Blue-Green - Log")["Id"].(string)
	srv.AddUsage(c.SpaceID, id, octopustest.Usage{ProjectID: "Projects-4", ProcessID: "deploymentprocess-Projects-4", ActionID: "a4", ActionName: "Log", Branch: "main"})
	srv.Inject(octopustest.Fault{Method: "POST", Path: "/actionsUpdate$", Status: 400})
	res, err = publish.Sync(c, templates.Generate(registry("v1")), publish.SyncOptions{UpdateUsages: true})
	if err != nil {
		t.Fatalf("a refused Git update must not fail the sync: %v", err)
	}
	att := res.NeedsAttention()
	if len(att) != 1 || att[0].ActionID != "a4" || att[0].Outcome != publish.OutcomeManualChange || att[0].GitRef != "main" ||
		len(att[0].Reasons["GitRef"]) != 1 || !strings.Contains(att[0].Reasons["GitRef"][0], "version 1") {
		t.Errorf("needs attention: %+v", att)
	}
	if got := srv.UsageVersions(c.SpaceID, id)["a4"]; got != 0 {
		t.Errorf("the refused step moved to version %d", got)
	}
}
