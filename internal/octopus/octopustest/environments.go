package octopustest

import "net/http"

// Environments are read-only: the collection, all, and one by id.

// AddEnvironment creates an environment and returns its id.
func (s *Server) AddEnvironment(spaceID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	id := s.nextID("Environments")
	d.environments = append(d.environments, obj{"Id": id, "Name": name, "SpaceId": spaceID, "Description": "", "SortOrder": len(d.environments),
		"UseGuidedFailure": false, "AllowDynamicInfrastructure": true, "Links": obj{"Self": "/api/" + spaceID + "/environments/" + id}})
	return id
}

func (s *Server) environmentRoutes(rt router) {
	rt.readOnly("/api/{space}/environments", "EnvironmentResource", func(r *http.Request) []obj {
		_, d := s.spaceOf(r)
		return d.environments
	}, find, unserved)
}
