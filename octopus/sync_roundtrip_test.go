package octopus_test

import (
	"encoding/json"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/octopus"
	"github.com/bluegreen-deploy/bluegreen/octopus/octopustest"
)

// TestSyncWritesOnlyWhatItOwns: sync finds a template under its old
// "Blue/Green - " name, renames it in place (same id, so the steps that
// use it stay linked) and changes only the fields bluegreen owns; a field
// of a newer server and the community template link come back as they
// were. New templates are created with a null FeedId, as the Library has it.
func TestSyncWritesOnlyWhatItOwns(t *testing.T) {
	srv := octopustest.New(t)
	srv.Newer("ActionTemplateResource", "FutureSetting")
	c := connect(t, srv)
	old := map[string]any{"Name": "Blue/Green - Log", "Description": "old", "ActionType": "Octopus.Script",
		"CommunityActionTemplateId": "CommunityActionTemplates-9", "FutureSetting": map[string]any{"Keep": []any{"me", 1}},
		"Properties": map[string]any{"Octopus.Action.Script.ScriptBody": "echo old"}, "Parameters": []any{}, "Packages": []any{}}
	id := srv.AddTemplateJSON(c.SpaceID, old)
	before := srv.Template(c.SpaceID, "Blue/Green - Log")

	res, err := octopus.Sync(c, octopus.Generate(registry("Logs a message.")), octopus.SyncOptions{})
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
