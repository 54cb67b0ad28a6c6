package octopus

import (
	"slices"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/projects"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// variableParams are shared by variables.get and variables.set.
var variableParams = []steps.Param{
	{Name: "project", Type: steps.String, Required: true, Doc: "The project, by name, slug or id.", Examples: []any{"web"}},
	{Name: "name", Type: steps.String, Required: true, Doc: "The variable's name.", Examples: []any{"BlueGreen.Live"}},
	{Name: "environment", Type: steps.String, Doc: "Scope: the environment (name or id) the value is scoped to. Empty means the unscoped value."},
	gitRefParam,
}

// variableScope resolves the params "project" and "environment" of
// variables.get and variables.set: the project, and the environment id the
// value is scoped to ("" for the unscoped value).
func variableScope(c *octopus.Client, p steps.Params) (*projects.Project, string, error) {
	proj, err := project(c, p.String("project"))
	if err != nil {
		return nil, "", err
	}
	envID := ""
	if env := p.String("environment"); env != "" {
		if envID, err = environmentID(c, env); err != nil {
			return nil, "", err
		}
	}
	return proj, envID, nil
}

// findVariable returns the index in vars of the variable called name whose
// scope is exactly the environment envID (or no scope at all when envID is
// empty), or -1. A variable with any other scope (machines, roles,
// channels, tenants, or more environments) is a different value and is
// left alone. vars are the set's variables as the server sent them.
func findVariable(vars []any, name, envID string) int {
	for i, e := range vars {
		v, _ := e.(map[string]any)
		if v == nil || octopus.DocString(v, "Name") != name {
			continue
		}
		scope, _ := v["Scope"].(map[string]any)
		other := false
		for k := range scope {
			if k != "Environment" && len(octopus.DocStrings(scope, k)) > 0 {
				other = true
			}
		}
		if other {
			continue
		}
		envs := octopus.DocStrings(scope, "Environment")
		if envID == "" && len(envs) == 0 {
			return i
		}
		if envID != "" && slices.Equal(envs, []string{envID}) {
			return i
		}
	}
	return -1
}

// variableAt returns the variable at i of vars as an object.
func variableAt(vars []any, i int) octopus.Doc {
	v, _ := vars[i].(map[string]any)
	return v
}
