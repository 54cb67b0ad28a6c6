package octopustest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// contractJSON holds the definitions of the Octopus Server 2020.5 API
// contract (../shared/octopus/octopus-server-api-2020.5.swagger.json) that
// the fake serves, copied verbatim and reachable from contractRoots.
// TestContractIsVerbatim checks the copy against the full file;
// `go test ./octopus/octopustest -run TestContractIsVerbatim -update-contract`
// rewrites it.
//
//go:embed contract.json
var contractJSON []byte

// schema is the subset of a Swagger 2.0 schema object the contract uses.
type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Format               string             `json:"format"`
	Enum                 []string           `json:"enum"`
	Required             []string           `json:"required"`
	Properties           map[string]*schema `json:"properties"`
	AdditionalProperties *schema            `json:"additionalProperties"`
	Items                *schema            `json:"items"`
	ReadOnly             bool               `json:"readOnly"`
}

type contract struct {
	defs map[string]*schema
}

func loadContract() *contract {
	var defs map[string]*schema
	if err := json.Unmarshal(contractJSON, &defs); err != nil {
		panic(fmt.Sprintf("octopustest: contract.json: %v", err))
	}
	// The 2020.5 contract documents POST .../actionsUpdate without a body
	// schema. This is the body the server binds (ActionsUpdateResource in
	// Octopus.Server; go-octopusdeploy and the Octopus CLI send exactly
	// these fields), so the fake checks it as strictly as the others.
	defs["ActionsUpdateResource"] = &schema{Type: "object", Required: []string{"Version", "ActionsToUpdate"}, Properties: map[string]*schema{
		"Id":      {Type: "string"},
		"SpaceId": {Type: "string"},
		"Version": {Type: "integer", Format: "int32"},
		"ActionsToUpdate": {Type: "array", Items: &schema{Type: "object", Properties: map[string]*schema{
			"ProcessId":   {Type: "string"},
			"ProcessType": {Type: "string", Enum: []string{"Deployment", "Runbook"}},
			"ActionIds":   {Type: "array", Items: &schema{Type: "string"}},
			// Newer servers: the branch of a process stored in Git
			// (ActionsUpdateProcessResource.GitRef in OctopusClients).
			"GitRef": {Type: "string"},
		}}},
		"DefaultPropertyValues": {Type: "object", AdditionalProperties: &schema{Type: "string"}},
		"Overrides":             {Type: "object", AdditionalProperties: &schema{Type: "string"}},
	}}
	return &contract{defs: defs}
}

// check validates a decoded JSON value (numbers as json.Number) against a
// definition and returns every mismatch as "path: problem".
//
// Two rules differ from a literal reading of the Swagger file, both because
// the contract describes C# types rather than their JSON:
//   - null is accepted for any property, as the server's JSON.NET binder
//     accepts it for every reference and nullable type;
//   - PropertyValueResource is written by the server's converter as a bare
//     string, or as a SensitiveValue object for sensitive values;
//   - EndpointResource is the base of polymorphic endpoints (the
//     CommunicationStyle picks the subtype), so its subtype's properties
//     are allowed beside the base's.
func (c *contract) check(def string, v any) []string {
	var errs []string
	c.walk(&schema{Ref: "#/definitions/" + def}, v, "$", &errs)
	sort.Strings(errs)
	return errs
}

func (c *contract) walk(s *schema, v any, path string, errs *[]string) {
	fail := func(format string, a ...any) {
		*errs = append(*errs, path+": "+fmt.Sprintf(format, a...))
	}
	if v == nil {
		return
	}
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/definitions/")
		switch name {
		case "PropertyValueResource":
			if _, ok := v.(string); ok {
				return
			}
			c.walk(&schema{Ref: "#/definitions/SensitiveValue"}, v, path, errs)
			return
		}
		d, ok := c.defs[name]
		if !ok {
			fail("contract has no definition %s", name)
			return
		}
		if name == "EndpointResource" {
			cp := *d
			cp.AdditionalProperties = &schema{Type: "any"}
			d = &cp
		}
		c.walk(d, v, path, errs)
		return
	}
	if len(s.Enum) > 0 {
		str, ok := v.(string)
		if !ok || !containsString(s.Enum, str) {
			fail("%v is not one of %s", v, strings.Join(s.Enum, ", "))
			return
		}
	}
	switch s.Type {
	case "", "object":
		obj, ok := v.(map[string]any)
		if !ok {
			if s.Type == "object" {
				fail("expected an object, found %s", jsonKind(v))
			}
			return
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				fail("required property %s is missing", r)
			}
		}
		for k, pv := range obj {
			ps, ok := s.Properties[k]
			if !ok {
				if s.AdditionalProperties == nil {
					fail("unknown property %s", k)
					continue
				}
				ps = s.AdditionalProperties
			}
			c.walk(ps, pv, path+"."+k, errs)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			fail("expected an array, found %s", jsonKind(v))
			return
		}
		if s.Items != nil {
			for i, e := range arr {
				c.walk(s.Items, e, fmt.Sprintf("%s[%d]", path, i), errs)
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			fail("expected a string, found %s", jsonKind(v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("expected a boolean, found %s", jsonKind(v))
		}
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			fail("expected an integer, found %s", jsonKind(v))
			return
		}
		if _, err := n.Int64(); err != nil {
			fail("expected an integer, found %s", n)
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			fail("expected a number, found %s", jsonKind(v))
		}
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
