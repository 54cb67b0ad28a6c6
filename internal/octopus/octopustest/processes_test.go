package octopustest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// TestProcessPutRules: a stale Version, a field outside the contract and
// an unnamed step are refused and change nothing; a good PUT gets ids, a
// slug and the next Version.
func TestProcessPutRules(t *testing.T) {
	s := New(t)
	proj := s.AddProject(DefaultSpaceID, "Web")
	url := s.URL + "/api/" + DefaultSpaceID + "/deploymentprocesses/deploymentprocess-" + proj
	put := func(body map[string]any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(b))
		req.Header.Set("X-Octopus-ApiKey", s.APIKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	step := func(name string) map[string]any {
		return map[string]any{"Name": name, "Actions": []any{map[string]any{"Name": name, "ActionType": "Octopus.Script", "Properties": map[string]any{"Octopus.Action.Script.ScriptBody": "true"}}}}
	}
	for _, bad := range []map[string]any{
		{"Version": 3, "Steps": []any{step("a")}},
		{"Version": 0, "Steps": []any{step("a")}, "Colour": "blue"},
		{"Version": 0, "Steps": []any{step("")}},
		{"Version": 0, "Steps": []any{step("a"), step("A")}},
	} {
		if code, _ := put(bad); code != 400 {
			t.Errorf("PUT %v: %d, want 400", bad, code)
		}
	}
	if p := s.Process(DefaultSpaceID, proj); p["Version"] != 0 || len(p["Steps"].([]any)) != 0 {
		t.Fatalf("a refused PUT changed the process: %v", p)
	}
	code, out := put(map[string]any{"Version": 0, "Steps": []any{step("Say hello")}})
	if code != 200 || out["Version"] != float64(1) {
		t.Fatalf("PUT: %d %v", code, out)
	}
	a := out["Steps"].([]any)[0].(map[string]any)["Actions"].([]any)[0].(map[string]any)
	if a["Id"] == "" || a["Slug"] != "say-hello" {
		t.Errorf("action after PUT: %v", a)
	}
}
