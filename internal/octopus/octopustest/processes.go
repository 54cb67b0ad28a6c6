package octopustest

import (
	"net/http"
	"strings"
)

// Deployment processes: GET and PUT /api/{spaceId}/deploymentprocesses/{id},
// the id being a project's DeploymentProcessId. A project's process exists
// from the project's creation, empty (Version 0), as on a real server. A PUT
// is held to DeploymentProcessResource, must carry the stored Version (the
// optimistic-concurrency check a real server makes: a stale process is a
// 400), and the server assigns ids to new steps and actions, a slug to
// each action, and bumps Version. Everything else is stored as sent, so a
// client that writes back only the fields it owns can be checked to keep
// the others.

// ProcessStep is a deployment process step as tests arrange it. Raw is the
// step's JSON object (Name, Properties, Actions, ...) as a client would
// PUT it; ids are assigned when missing.
type ProcessStep = map[string]any

// process returns a project's stored process, creating the empty one on
// first use. The caller holds s.mu.
func (s *Server) process(spaceID, id string) obj {
	if s.processes == nil {
		s.processes = map[string]obj{}
	}
	if p, ok := s.processes[id]; ok {
		return p
	}
	var project obj
	for _, p := range s.space(spaceID).projects {
		if p["DeploymentProcessId"] == id {
			project = p
		}
	}
	if project == nil {
		return nil
	}
	p := obj{"Id": id, "ProjectId": project["Id"], "SpaceId": spaceID, "Version": 0, "Steps": []any{}, "LastSnapshotId": nil,
		"Links": obj{"Self": "/api/" + spaceID + "/deploymentprocesses/" + id, "Project": "/api/" + spaceID + "/projects/" + str(project["Id"])}}
	s.processes[id] = p
	return p
}

func (s *Server) processRoutes(rt router) {
	const base = "/api/{space}/deploymentprocesses"
	rt.handle(base, notFound)
	rt.route(base+"/{id}", s.loaded(s.processOf, methodNotAllowed), map[string]endpoint{http.MethodGet: read(s.processOf, "DeploymentProcessResource"), http.MethodPut: s.updateProcess})
	rt.handle(base+"/{id}/{rest...}", notFound)
}

// processOf returns the process a request names by {id}.
func (s *Server) processOf(r *http.Request) (*spaceData, obj, *apiError) {
	spaceID, d := s.spaceOf(r)
	if p := s.process(spaceID, pathValue(r, "id")); p != nil {
		return d, p, nil
	}
	return nil, nil, errNotFound()
}

func (s *Server) updateProcess(r *http.Request) (int, string, any, error) {
	_, p, err := s.processOf(r)
	if err != nil {
		return 0, "", nil, err
	}
	if err := s.putProcess(r, p); err != nil {
		return 0, "", nil, err
	}
	return 200, "DeploymentProcessResource", p, nil
}

func (s *Server) putProcess(r *http.Request, stored obj) *apiError {
	body, err := s.readBody(r, "DeploymentProcessResource")
	if err != nil {
		return err
	}
	if id := str(body["Id"]); id != "" && id != stored["Id"] {
		return errorf(400, "Model validation failed: the Id in the body differs from the URL")
	}
	if toInt(body["Version"]) != toInt(stored["Version"]) {
		return errorf(400, "The deployment process has been modified by another user since you loaded it (version %d, yours %d). Please reload and try again.", toInt(stored["Version"]), toInt(body["Version"]))
	}
	stepNames, actionNames := map[string]bool{}, map[string]bool{}
	var steps []any
	for _, e := range anySlice(body["Steps"]) {
		st, _ := e.(obj)
		name := strings.TrimSpace(str(st["Name"]))
		if name == "" {
			return errorf(400, "Model validation failed: Please provide a name for every step.")
		}
		if stepNames[strings.ToLower(name)] {
			return errorf(400, "Model validation failed: Step names must be unique: %q is used twice.", name)
		}
		stepNames[strings.ToLower(name)] = true
		if str(st["Id"]) == "" {
			st["Id"] = newGUID(s)
		}
		actions := anySlice(st["Actions"])
		if len(actions) == 0 {
			return errorf(400, "Model validation failed: Step %q has no actions.", name)
		}
		for _, a := range actions {
			act, _ := a.(obj)
			an := strings.TrimSpace(str(act["Name"]))
			if an == "" || str(act["ActionType"]) == "" {
				return errorf(400, "Model validation failed: Every action of step %q needs a Name and an ActionType.", name)
			}
			if actionNames[strings.ToLower(an)] {
				return errorf(400, "Model validation failed: Action names must be unique: %q is used twice.", an)
			}
			actionNames[strings.ToLower(an)] = true
			if str(act["Id"]) == "" {
				act["Id"] = newGUID(s)
			}
			if str(act["Slug"]) == "" {
				act["Slug"] = slug(an)
			}
		}
		steps = append(steps, st)
	}
	if steps == nil {
		steps = []any{}
	}
	stored["Steps"] = steps
	stored["Version"] = toInt(stored["Version"]) + 1
	return nil
}

// Process returns a copy of a project's deployment process.
func (s *Server) Process(spaceID, projectID string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.space(spaceID).projects {
		if p["Id"] == projectID {
			return deepClone(s.process(spaceID, str(p["DeploymentProcessId"]))).(obj)
		}
	}
	panic("octopustest: no project " + projectID)
}

// SetProcessSteps replaces a project's process steps, as a user editing the
// process in the web portal would (ids are assigned, Version bumped).
func (s *Server) SetProcessSteps(spaceID, projectID string, steps []ProcessStep) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.space(spaceID).projects {
		if p["Id"] != projectID {
			continue
		}
		stored := s.process(spaceID, str(p["DeploymentProcessId"]))
		var out []any
		for _, st := range steps {
			st = deepClone(st).(obj)
			if str(st["Id"]) == "" {
				st["Id"] = newGUID(s)
			}
			for _, a := range anySlice(st["Actions"]) {
				if act, _ := a.(obj); str(act["Id"]) == "" {
					act["Id"] = newGUID(s)
				}
			}
			out = append(out, st)
		}
		stored["Steps"] = out
		stored["Version"] = toInt(stored["Version"]) + 1
		return
	}
	panic("octopustest: no project " + projectID)
}

// deepClone copies nested maps and slices, so that a test's copy cannot
// change the server's state.
func deepClone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepClone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepClone(e)
		}
		return out
	}
	return v
}
