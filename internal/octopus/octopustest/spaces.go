package octopustest

import "net/http"

// The API root, the spaces collection and a space's root document. Every
// method but GET on the spaces collection is a 405; GET on a path the
// collection does not have is a 404.

// AddSpace creates a space and returns its id.
func (s *Server) AddSpace(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID("Spaces")
	s.spaces = append(s.spaces, obj{"Id": id, "Name": name, "Description": "", "IsDefault": false, "TaskQueueStopped": false,
		"SpaceManagersTeams": []any{}, "SpaceManagersTeamMembers": []any{}, "Links": obj{"Self": "/api/spaces/" + id, "SpaceHome": "/api/" + id}})
	s.data[id] = &spaceData{varsets: map[string]obj{}, secrets: map[string]string{}, versions: map[string]map[int]obj{},
		usage: map[string][]obj{}, manual: map[string]bool{}}
	return id
}

func (s *Server) spacesRoutes(rt router) {
	rt.route("/api/spaces", methodNotAllowed, map[string]endpoint{http.MethodGet: s.listSpaces})
	rt.getAll("/api/spaces/all", s.allSpaces, methodNotAllowed)
	rt.route("/api/spaces/{id}", methodNotAllowed, map[string]endpoint{http.MethodGet: s.getSpace})
	rt.route("/api/spaces/{id}/{rest...}", methodNotAllowed, map[string]endpoint{http.MethodGet: notFound})
}

func (s *Server) getRoot(*http.Request) (int, string, any, error) {
	return 200, "RootResource", obj{"Application": "Octopus Deploy", "Version": "2020.5.0", "ApiVersion": "3.0.0", "InstallationId": "8e9d9c3a-0000-4000-8000-000000000001",
		"IsEarlyAccessProgram": false, "HasLongTermSupport": true,
		"Links": obj{"Self": "/api", "Spaces": "/api/spaces{/id}{?skip,ids,take,partialName}", "SpaceHome": "/api/{spaceId}"}}, nil
}

func (s *Server) getSpaceRoot(r *http.Request) (int, string, any, error) {
	id, _ := s.spaceOf(r)
	base := "/api/" + id
	return 200, "SpaceRootResource", obj{"Id": nil, "Links": obj{"Self": base,
		"ActionTemplates": base + "/actiontemplates{/id}{?skip,take,ids,partialName}", "Environments": base + "/environments{/id}{?name,skip,ids,take,partialName}",
		"Feeds": base + "/feeds{/id}{?skip,take,ids,partialName,feedType,name}", "Machines": base + "/machines{/id}{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,environmentIds}",
		"Packages": base + "/packages{/id}{?nuGetPackageId,filter,latest,skip,take,includeNotes}", "PackageUpload": base + "/packages/raw{?replace,overwriteMode}",
		"Projects": base + "/projects{/id}{?name,skip,ids,clone,take,partialName,clonedFromProjectId}", "Variables": base + "/variables{/id}{?ids}"}}, nil
}

func (s *Server) listSpaces(r *http.Request) (int, string, any, error) {
	return 200, "*SpaceResource", collection(r, filterByName(r, s.spaces)), nil
}

func (s *Server) allSpaces(*http.Request) (int, string, any, error) {
	return 200, "[]SpaceResource", toAnyObjs(s.spaces), nil
}

func (s *Server) getSpace(r *http.Request) (int, string, any, error) {
	if sp := find(s.spaces, pathValue(r, "id")); sp != nil {
		return 200, "SpaceResource", sp, nil
	}
	return notFound(r)
}
