package octopus

import (
	"fmt"
	"net/url"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/projects"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// variableStore says where a project's variables are. A database project
// has one variable set. A Config-as-Code project whose variables are in
// Git keeps its non-sensitive variables in Git, one set per branch
// (/projects/{id}/{gitRef}/variables), and its sensitive ones in the
// database (/projects/{id}/variables), as OctopusClients' VariableSetRepository
// reads them.
type variableStore struct {
	proj *projects.Project
	// path is the set bluegreen reads and writes: the database set, or
	// the branch's set in Git.
	path string
	// sensitivePath is, for a Git project, the database set that holds
	// the sensitive variables; "" otherwise.
	sensitivePath string
	// gitRef is the branch (or ref) written to; "" for a database project.
	gitRef string
}

// openVariables finds where proj keeps its variables. gitRef chooses the
// branch of a Git project (its default branch when empty); it is an error
// for a database project, where it could only be a mistake.
func openVariables(c *octopus.Client, proj *projects.Project, gitRef string) (*variableStore, error) {
	doc, err := c.GetDoc(c.Path("/projects/%s", proj.ID))
	if err != nil {
		return nil, fmt.Errorf("read project %s: %w", proj.Name, err)
	}
	ps, _ := doc["PersistenceSettings"].(map[string]any)
	conv, _ := ps["ConversionState"].(map[string]any)
	if octopus.DocString(ps, "Type") != "VersionControlled" || conv["VariablesAreInGit"] != true {
		if gitRef != "" {
			return nil, fmt.Errorf("param \"git_ref\": project %s keeps its variables in the Octopus database, not in Git; leave git_ref empty", proj.Name)
		}
		return &variableStore{proj: proj, path: c.Path("/variables/%s", proj.VariableSetID)}, nil
	}
	if gitRef == "" {
		gitRef = octopus.DocString(ps, "DefaultBranch")
		if gitRef == "" {
			return nil, fmt.Errorf("project %s keeps its variables in Git but has no default branch: set git_ref", proj.Name)
		}
	}
	return &variableStore{proj: proj, gitRef: gitRef,
		path:          c.Path("/projects/%s/%s/variables", proj.ID, url.PathEscape(gitRef)),
		sensitivePath: c.Path("/projects/%s/variables", proj.ID)}, nil
}

// read reads the set at path as the server's own JSON. The variables are
// the set's own objects ([]any of map[string]any), so changing one
// changes the set.
func (s *variableStore) read(c *octopus.Client, path string) (octopus.Doc, []any, error) {
	set, err := c.GetDoc(path)
	if err != nil {
		where := ""
		if s.gitRef != "" {
			where = " on " + s.gitRef
			if path == s.sensitivePath {
				where = " (sensitive, in the database)"
			}
		}
		return nil, nil, fmt.Errorf("read variables of project %s%s: %w", s.proj.Name, where, err)
	}
	vars, _ := set["Variables"].([]any)
	return set, vars, nil
}

// sensitiveMatch reports whether a Git project's database set has a
// (sensitive) variable with this name and scope.
func (s *variableStore) sensitiveMatch(c *octopus.Client, name, envID string) (bool, error) {
	if s.sensitivePath == "" {
		return false, nil
	}
	_, vars, err := s.read(c, s.sensitivePath)
	if err != nil {
		return false, err
	}
	return findVariable(vars, name, envID) >= 0, nil
}

// gitRefParam is the param of variables.get and variables.set that picks
// the branch of a Config-as-Code project.
var gitRefParam = steps.Param{Name: "git_ref", Type: steps.String,
	Doc: "For a Config-as-Code project whose variables are in Git: the branch (or `refs/heads/...`) to read and write. " +
		"Empty means the project's default branch. Sensitive variables stay in the Octopus database whatever the branch. " +
		"Must be empty for a project that keeps its variables in the database.",
	Examples: []any{"main"}}
