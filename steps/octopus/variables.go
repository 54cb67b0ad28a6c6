package octopus

import (
	"slices"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/projects"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/variables"

	"github.com/bluegreen-deploy/bluegreen/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// variableParams are shared by variables.get and variables.set.
var variableParams = []steps.Param{
	{Name: "project", Type: steps.String, Required: true, Doc: "The project, by name, slug or id.", Examples: []any{"web"}},
	{Name: "name", Type: steps.String, Required: true, Doc: "The variable's name.", Examples: []any{"BlueGreen.Live"}},
	{Name: "environment", Type: steps.String, Doc: "Scope: the environment (name or id) the value is scoped to. Empty means the unscoped value."},
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

// findVariable returns the index of the variable called name whose scope
// is exactly the environment envID (or no scope at all when envID is
// empty), or -1. A variable with any other scope (machines, roles,
// channels, or more environments) is a different value and is left alone.
func findVariable(set *variables.VariableSet, name, envID string) int {
	for i, v := range set.Variables {
		if v.Name != name {
			continue
		}
		sc := v.Scope
		if len(sc.Machines)+len(sc.Actions)+len(sc.Roles)+len(sc.Channels)+len(sc.TenantTags)+len(sc.ProcessOwners) > 0 {
			continue
		}
		if envID == "" && len(sc.Environments) == 0 {
			return i
		}
		if envID != "" && slices.Equal(sc.Environments, []string{envID}) {
			return i
		}
	}
	return -1
}
