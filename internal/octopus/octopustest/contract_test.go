package octopustest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateContract = flag.Bool("update-contract", false, "rewrite contract.json from the full swagger file")

// swaggerPath is the full contract, kept beside the repository (it is 1 MB
// and not ours to vendor whole).
var swaggerPath = filepath.Join("..", "..", "..", "..", "shared", "octopus", "octopus-server-api-2020.5.swagger.json")

func TestContractIsVerbatim(t *testing.T) {
	b, err := os.ReadFile(swaggerPath)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the full contract is needed under CI: %v", err)
		}
		t.Skipf("full swagger file not found (%v); contract.json cannot be compared", err)
	}
	var doc struct {
		Definitions map[string]json.RawMessage `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	sub, err := reachable(doc.Definitions, contractRoots)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(sub, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *updateContract {
		if err := os.WriteFile("contract.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(want, contractJSON) && !*updateContract {
		t.Error("contract.json differs from the swagger file's definitions (run with -update-contract)")
	}
}

func TestContractCheck(t *testing.T) {
	c := loadContract()
	tests := []struct {
		name string
		def  string
		body string
		want string // substring of an error; "" means valid
	}{
		{"valid template", "ActionTemplateResource", `{"Name":"x","ActionType":"Octopus.Script","Version":3,"Properties":{"a":"b","s":{"HasValue":true,"NewValue":"x"}},"Parameters":[{"Name":"p","DefaultValue":null,"DisplaySettings":{"Octopus.ControlType":"Sensitive"}}]}`, ""},
		{"missing required", "ActionTemplateResource", `{"Name":"x"}`, "required property ActionType"},
		{"unknown field", "ActionTemplateResource", `{"Name":"x","ActionType":"y","Category":"aws"}`, "unknown property Category"},
		{"mistyped field", "ActionTemplateResource", `{"Name":"x","ActionType":"y","Version":"3"}`, "$.Version: expected an integer"},
		{"mistyped property value", "ActionTemplateResource", `{"Name":"x","ActionType":"y","Properties":{"a":1}}`, "expected an object"},
		{"bad enum", "VariableSetResource", `{"Variables":[{"Name":"v","Type":"Secret"}]}`, "not one of"},
		{"bad scope", "VariableSetResource", `{"Variables":[{"Name":"v","Scope":{"Environment":"Environments-1"}}]}`, "expected an array"},
		{"fraction", "VariableSetResource", `{"Version":1.5}`, "expected an integer"},
		{"endpoint subtype", "DeploymentTargetResource", `{"Name":"m","Endpoint":{"CommunicationStyle":"None","DefaultWorkerPoolId":""}}`, ""},
		{"health enum", "DeploymentTargetResource", `{"Name":"m","HealthStatus":"Fine"}`, "not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tt.body))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			errs := c.check(tt.def, v)
			joined := strings.Join(errs, "; ")
			if tt.want == "" && len(errs) > 0 {
				t.Errorf("unexpected errors: %s", joined)
			}
			if tt.want != "" && !strings.Contains(joined, tt.want) {
				t.Errorf("errors %q lack %q", joined, tt.want)
			}
		})
	}
}
