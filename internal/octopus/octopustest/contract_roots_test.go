package octopustest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// The roots of contract.json and the walk that extracts it from the full
// swagger file serve only TestContractIsVerbatim, so they live beside it
// and the fake that tests link does not carry them.

// contractRoots are the request and response bodies the fake serves.
var contractRoots = []string{
	"ActionTemplateResource", "ActionTemplateUsageResource", "ActionUpdateResultResource",
	"VariableSetResource", "DeploymentTargetResource", "ProjectResource", "EnvironmentResource",
	"SpaceResource", "FeedResource", "PackageFromBuiltInFeedResource", "RootResource", "SpaceRootResource",
	"DeploymentProcessResource",
}

// reachable returns the definitions reachable from roots in the full
// swagger document's definitions.
func reachable(all map[string]json.RawMessage, roots []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	var visit func(string) error
	visit = func(name string) error {
		if _, done := out[name]; done {
			return nil
		}
		raw, ok := all[name]
		if !ok {
			return fmt.Errorf("definition %s not in the swagger file", name)
		}
		out[name] = raw
		for _, ref := range refsIn(raw) {
			if err := visit(ref); err != nil {
				return err
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := visit(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func refsIn(raw json.RawMessage) []string {
	var refs []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "$ref" {
					refs = append(refs, strings.TrimPrefix(s, "#/definitions/"))
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	walk(v)
	return refs
}
