package octopustest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Config-as-Code projects. The 2020.5 contract predates them; the fake
// models them as later servers and OctopusClients do (PersistenceSettings,
// GitPersistenceSettingsResource.ConversionState, VariableSetRepository):
//
//   - the project has PersistenceSettings {Type: VersionControlled,
//     DefaultBranch, ConversionState {VariablesAreInGit: true}} and the
//     links Variables (/projects/{id}/{gitRef}/variables) and
//     SensitiveVariables (/projects/{id}/variables);
//   - non-sensitive variables live in Git, one set per branch, read and
//     written at /projects/{id}/{gitRef}/variables, where gitRef is a
//     branch name or refs/heads/<branch> (escaped: refs%2Fheads%2Fmain);
//     a sensitive variable there is refused;
//   - sensitive variables stay in the database, at /projects/{id}/variables,
//     where a non-sensitive variable is refused.

type gitProject struct {
	defaultBranch string
	branches      map[string]obj // branch → variable set
}

func gitBranch(ref string) string { return strings.TrimPrefix(ref, "refs/heads/") }

// AddGitProject creates a Config-as-Code project whose variables are in
// Git on defaultBranch (sensitive ones in the database) and returns its id.
func (s *Server) AddGitProject(spaceID, name, defaultBranch string) string {
	id := s.AddProject(spaceID, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newerLocked("ProjectResource", "PersistenceSettings", "IsVersionControlled")
	p := find(s.space(spaceID).projects, id)
	p["IsVersionControlled"] = true
	p["PersistenceSettings"] = obj{"Type": "VersionControlled", "Url": "https://git.example.com/" + slug(name) + ".git", "DefaultBranch": defaultBranch,
		"BasePath": ".octopus", "Credentials": obj{"Type": "Anonymous"}, "ProtectedDefaultBranch": false, "ProtectedBranchNamePatterns": []any{},
		"ConversionState": obj{"VariablesAreInGit": true, "RunbooksAreInGit": false}}
	links := p["Links"].(obj)
	base := "/api/" + spaceID + "/projects/" + id
	links["Variables"], links["SensitiveVariables"] = base+"/{gitRef}/variables", base+"/variables"
	if s.git == nil {
		s.git = map[string]*gitProject{}
	}
	s.git[id] = &gitProject{defaultBranch: defaultBranch, branches: map[string]obj{}}
	s.addBranchLocked(spaceID, id, defaultBranch, nil)
	return id
}

// AddBranch creates a branch of a Git project's variables as a copy of the
// default branch.
func (s *Server) AddBranch(spaceID, projectID, branch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.git[projectID]
	s.addBranchLocked(spaceID, projectID, branch, clone(g.branches[g.defaultBranch]))
}

func (s *Server) addBranchLocked(spaceID, projectID, branch string, from obj) {
	vs := from
	if vs == nil {
		vs = obj{"OwnerId": projectID, "SpaceId": spaceID, "Version": 0, "Variables": []any{}}
	}
	vs["Id"] = "variableset-" + projectID + "-git-" + slug(branch)
	vs["Links"] = obj{"Self": "/api/" + spaceID + "/projects/" + projectID + "/" + url.PathEscape("refs/heads/"+branch) + "/variables"}
	s.git[projectID].branches[branch] = vs
}

// SetGitVariablesJSON replaces the variables of a Git project's branch.
func (s *Server) SetGitVariablesJSON(spaceID, projectID, branch string, vars []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.git[projectID].branches[branch]
	list := []any{}
	for _, v := range vars {
		o := clone(v)
		if str(o["Id"]) == "" {
			o["Id"] = newGUID(s)
		}
		list = append(list, o)
	}
	vs["Variables"] = list
	vs["Version"] = toInt(vs["Version"]) + 1
}

// GitVariablesJSON returns the variable set of a Git project's branch.
func (s *Server) GitVariablesJSON(spaceID, projectID, branch string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.git[projectID].branches[branch])
}

func (s *Server) gitRoutes(rt router) {
	const base = "/api/{space}/projects/{id}"
	rt.route(base+"/variables", s.loaded(s.sensitiveSet, methodNotAllowed),
		map[string]endpoint{http.MethodGet: read(s.sensitiveSet, "VariableSetResource"), http.MethodPut: s.putSensitiveSet})
	rt.route(base+"/{gitRef}/variables", s.loaded(s.branchSet, methodNotAllowed),
		map[string]endpoint{http.MethodGet: read(s.branchSet, "VariableSetResource"), http.MethodPut: s.putBranchSet})
}

// gitProjectOf returns the space and the Git project a request names by
// {id}; a project of another space, or one whose variables are not in
// Git, is a 404.
func (s *Server) gitProjectOf(r *http.Request) (*spaceData, *gitProject, *apiError) {
	_, d := s.spaceOf(r)
	id := pathValue(r, "id")
	if g := s.git[id]; g != nil && find(d.projects, id) != nil {
		return d, g, nil
	}
	return nil, nil, errNotFound()
}

// sensitiveSet returns the database variable set of a Git project, which
// holds its sensitive variables.
func (s *Server) sensitiveSet(r *http.Request) (*spaceData, obj, *apiError) {
	d, _, err := s.gitProjectOf(r)
	if err != nil {
		return nil, nil, err
	}
	return d, d.varsets["variableset-"+pathValue(r, "id")], nil
}

func (s *Server) putSensitiveSet(r *http.Request) (int, string, any, error) {
	d, vs, err := s.sensitiveSet(r)
	if err != nil {
		return 0, "", nil, err
	}
	if err := s.checkVariableKinds(r, true); err != nil {
		return 0, "", nil, err
	}
	out, err := s.putVariables(r, d, vs)
	if err != nil {
		return 0, "", nil, err
	}
	return 200, "VariableSetResource", out, nil
}

// branchSet returns the variable set of the branch {gitRef} names.
func (s *Server) branchSet(r *http.Request) (*spaceData, obj, *apiError) {
	d, g, err := s.gitProjectOf(r)
	if err != nil {
		return nil, nil, err
	}
	ref := pathValue(r, "gitRef")
	if vs := g.branches[gitBranch(ref)]; vs != nil {
		return d, vs, nil
	}
	return nil, nil, errorf(404, "The branch %s was not found in the project's repository.", ref)
}

func (s *Server) putBranchSet(r *http.Request) (int, string, any, error) {
	_, vs, err := s.branchSet(r)
	if err != nil {
		return 0, "", nil, err
	}
	if err := s.checkVariableKinds(r, false); err != nil {
		return 0, "", nil, err
	}
	body, err := s.readBody(r, "VariableSetResource")
	if err != nil {
		return 0, "", nil, err
	}
	if toInt(body["Version"]) != toInt(vs["Version"]) {
		return 0, "", nil, errorf(409, "The variables on branch %s changed since they were read; read them again.", gitBranch(pathValue(r, "gitRef")))
	}
	list := []any{}
	for _, e := range anySlice(body["Variables"]) {
		v := clone(e.(obj))
		if str(v["Id"]) == "" {
			v["Id"] = newGUID(s)
		}
		list = append(list, v)
	}
	vs["Variables"] = list
	vs["Version"] = toInt(vs["Version"]) + 1
	return 200, "VariableSetResource", vs, nil
}

// checkVariableKinds refuses a variable set body that mixes the kinds: a
// sensitive variable sent to Git, or a non-sensitive one to the database
// set of a project whose variables are in Git. It leaves the body for the
// handler to read.
func (s *Server) checkVariableKinds(r *http.Request, sensitiveSet bool) *apiError {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return errorf(400, "read body: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	var body struct {
		Variables []struct {
			Name        string
			IsSensitive bool
			Type        string
		}
	}
	if json.Unmarshal(b, &body) != nil {
		return nil // readBody reports it
	}
	for _, v := range body.Variables {
		sensitive := v.IsSensitive || v.Type == "Sensitive"
		if sensitive && !sensitiveSet {
			return errorf(400, "Sensitive variable %s cannot be stored in Git: sensitive variables of a version-controlled project stay in the database.", v.Name)
		}
		if !sensitive && sensitiveSet {
			return errorf(400, "Variable %s is not sensitive: the project's variables are stored in Git; only sensitive variables are kept in the database.", v.Name)
		}
	}
	return nil
}
