package octopustest

import "net/http"

// Projects are read-only: the collection, all, and one project by id or
// slug. The variables of a Config-as-Code project below a project are in
// cac.go; any other path below a project is a 404.

// AddProject creates a project with an empty variable set and returns its id.
func (s *Server) AddProject(spaceID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	id := s.nextID("Projects")
	vs := "variableset-" + id
	d.projects = append(d.projects, obj{"Id": id, "Name": name, "Slug": slug(name), "SpaceId": spaceID, "VariableSetId": vs,
		"DeploymentProcessId": "deploymentprocess-" + id, "Description": "", "IsDisabled": false, "LifecycleId": "Lifecycles-1",
		"ProjectGroupId": "ProjectGroups-1", "IncludedLibraryVariableSetIds": []any{}, "Links": obj{"Self": "/api/" + spaceID + "/projects/" + id, "Variables": "/api/" + spaceID + "/variables/" + vs}})
	d.varsets[vs] = obj{"Id": vs, "OwnerId": id, "SpaceId": spaceID, "Version": 0, "Variables": []any{}, "Links": obj{"Self": "/api/" + spaceID + "/variables/" + vs}}
	return id
}

func (s *Server) projectRoutes(rt router) {
	rt.readOnly("/api/{space}/projects", "ProjectResource", func(r *http.Request) []obj {
		_, d := s.spaceOf(r)
		return d.projects
	}, func(items []obj, id string) obj {
		for _, o := range items {
			if o["Id"] == id || o["Slug"] == id {
				return o
			}
		}
		return nil
	}, notFound)
}
