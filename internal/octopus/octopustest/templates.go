package octopustest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Step templates (action templates): list, all, create, read, update
// (the server bumps Version and keeps each version), delete, a version,
// the steps that use a template, and actionsUpdate, which moves those
// steps to the current version. Every path or method the server does not
// serve below actiontemplates is a 404.

// Template returns the stored step template with that name, or nil.
func (s *Server) Template(spaceID, name string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.space(spaceID).templates {
		if t["Name"] == name {
			return clone(t)
		}
	}
	return nil
}

// Templates returns every stored step template.
func (s *Server) Templates(spaceID string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, t := range s.space(spaceID).templates {
		out = append(out, clone(t))
	}
	return out
}

// Usage is a step in a deployment or runbook process that uses a template.
type Usage struct {
	ProjectID   string
	ProcessID   string
	ProcessType string // Deployment or Runbook
	ActionID    string
	ActionName  string
	// Version is the template version the step uses.
	Version int
	// Branch, for a process stored in Git (a Config-as-Code project), is
	// the branch the step is on; actionsUpdate then needs it as GitRef.
	Branch string
	// ManualMerge makes actionsUpdate answer ManualMergeRequired for it,
	// as the server does when the step overrides a changed property.
	ManualMerge bool
}

// AddUsage records that a process step uses a template.
func (s *Server) AddUsage(spaceID, templateID string, u Usage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	if u.ProcessType == "" {
		u.ProcessType = "Deployment"
	}
	d.usage[templateID] = append(d.usage[templateID], obj{"Id": u.ActionID, "ActionId": u.ActionID, "ActionName": u.ActionName, "StepName": u.ActionName,
		"ActionTemplateId": templateID, "ProcessId": u.ProcessID, "ProcessType": u.ProcessType, "DeploymentProcessId": u.ProcessID,
		"ProjectId": u.ProjectID, "ProjectName": u.ProjectID, "ProjectSlug": strings.ToLower(u.ProjectID), "Version": strconv.Itoa(u.Version),
		"Links": obj{}})
	if u.Branch != "" {
		s.newerLocked("ActionTemplateUsageResource", "Branch")
		d.usage[templateID][len(d.usage[templateID])-1]["Branch"] = u.Branch
	}
	d.manual[u.ActionID] = u.ManualMerge
}

// UsageVersions returns the template version each action uses, by action id.
func (s *Server) UsageVersions(spaceID, templateID string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, u := range s.space(spaceID).usage[templateID] {
		v, _ := strconv.Atoi(str(u["Version"]))
		out[str(u["ActionId"])] = v
	}
	return out
}

func (s *Server) templateRoutes(rt router) {
	const base = "/api/{space}/actiontemplates"
	templates := func(r *http.Request) []obj {
		_, d := s.spaceOf(r)
		return d.templates
	}
	rt.route(base, notFound, map[string]endpoint{http.MethodGet: page("ActionTemplateResource", func(r *http.Request) []obj { return filterByName(r, templates(r)) }),
		http.MethodPost: s.createTemplate})
	rt.getAll(base+"/all", whole("ActionTemplateResource", templates), notFound)
	rt.route(base+"/{id}", notFound, map[string]endpoint{http.MethodGet: read(s.template, "ActionTemplateResource"), http.MethodPut: s.putTemplate, http.MethodDelete: s.deleteTemplate})
	rt.route(base+"/{id}/versions/{version}", notFound, map[string]endpoint{http.MethodGet: s.getTemplateVersion})
	rt.route(base+"/{id}/usage", notFound, map[string]endpoint{http.MethodGet: s.getTemplateUsage})
	rt.route(base+"/{id}/actionsUpdate", notFound, map[string]endpoint{http.MethodPost: s.actionsUpdate})
	rt.handle(base+"/{id}/{rest...}", notFound)
}

// template returns the space and the template a request names by {id}.
func (s *Server) template(r *http.Request) (*spaceData, obj, *apiError) {
	_, d := s.spaceOf(r)
	if t := find(d.templates, pathValue(r, "id")); t != nil {
		return d, t, nil
	}
	return nil, nil, errNotFound()
}

func (s *Server) createTemplate(r *http.Request) (int, string, any, error) {
	spaceID, d := s.spaceOf(r)
	body, err := s.readBody(r, "ActionTemplateResource")
	if err != nil {
		return 0, "", nil, err
	}
	if err := s.checkTemplate(d, body, ""); err != nil {
		return 0, "", nil, err
	}
	id := s.nextID("ActionTemplates")
	t := s.storeTemplate(spaceID, id, body, 0)
	d.templates = append(d.templates, t)
	d.versions[id] = map[int]obj{0: clone(t)}
	return 201, "ActionTemplateResource", t, nil
}

func (s *Server) putTemplate(r *http.Request) (int, string, any, error) {
	d, t, err := s.template(r)
	if err != nil {
		return 0, "", nil, err
	}
	spaceID, _ := s.spaceOf(r)
	id := str(t["Id"])
	body, err := s.readBody(r, "ActionTemplateResource")
	if err != nil {
		return 0, "", nil, err
	}
	if err := s.checkTemplate(d, body, id); err != nil {
		return 0, "", nil, err
	}
	// The server owns Version: every accepted update is a new version.
	nt := s.storeTemplate(spaceID, id, body, toInt(t["Version"])+1)
	for i := range d.templates {
		if d.templates[i]["Id"] == id {
			d.templates[i] = nt
		}
	}
	d.versions[id][toInt(nt["Version"])] = clone(nt)
	return 200, "ActionTemplateResource", nt, nil
}

func (s *Server) deleteTemplate(r *http.Request) (int, string, any, error) {
	d, t, err := s.template(r)
	if err != nil {
		return 0, "", nil, err
	}
	d.templates = slices.DeleteFunc(d.templates, func(o obj) bool { return o["Id"] == t["Id"] })
	return 200, "", obj{}, nil
}

func (s *Server) getTemplateVersion(r *http.Request) (int, string, any, error) {
	d, t, err := s.template(r)
	if err != nil {
		return 0, "", nil, err
	}
	v, verr := strconv.Atoi(pathValue(r, "version"))
	if snap, ok := d.versions[str(t["Id"])][v]; verr == nil && ok {
		return 200, "ActionTemplateResource", snap, nil
	}
	return notFound(r)
}

func (s *Server) getTemplateUsage(r *http.Request) (int, string, any, error) {
	d, t, err := s.template(r)
	if err != nil {
		return 0, "", nil, err
	}
	return 200, "[]ActionTemplateUsageResource", toAnyObjs(d.usage[str(t["Id"])]), nil
}

// actionsUpdate moves the named steps to the template's current version:
// a step that overrides a changed property needs a manual merge, and a
// step of a process stored in Git needs its branch as GitRef.
func (s *Server) actionsUpdate(r *http.Request) (int, string, any, error) {
	d, t, err := s.template(r)
	if err != nil {
		return 0, "", nil, err
	}
	id := str(t["Id"])
	body, err := s.readBody(r, "ActionsUpdateResource")
	if err != nil {
		return 0, "", nil, err
	}
	if toInt(body["Version"]) != toInt(t["Version"]) {
		return 0, "", nil, errorf(400, "Validation failed: version %d is not the template's current version %d", toInt(body["Version"]), toInt(t["Version"]))
	}
	var results []obj
	for _, a := range anySlice(body["ActionsToUpdate"]) {
		for _, aid := range strs(a.(obj)["ActionIds"]) {
			res := obj{"Id": aid, "Outcome": "Success", "ManualMergeRequiredReasonsByPropertyName": obj{}, "NamesOfNewParametersMissingDefaultValue": []any{},
				"RemovedPackageUsages": []any{}, "Links": obj{}}
			var u obj
			for _, x := range d.usage[id] {
				if x["ActionId"] == aid {
					u = x
				}
			}
			switch {
			case u == nil:
				return 0, "", nil, errorf(400, "Validation failed: action %s does not use template %s", aid, id)
			case str(u["Branch"]) != "" && gitBranch(str(a.(obj)["GitRef"])) != str(u["Branch"]):
				return 0, "", nil, errorf(400, "Validation failed: the process of action %s is stored in Git (branch %s): give its GitRef", aid, str(u["Branch"]))
			case d.manual[aid]:
				res["Outcome"] = "ManualMergeRequired"
				res["ManualMergeRequiredReasonsByPropertyName"] = obj{"Octopus.Action.Script.ScriptBody": []any{"The step overrides this property; merge it by hand."}}
			default:
				u["Version"] = strconv.Itoa(toInt(t["Version"]))
			}
			results = append(results, res)
		}
	}
	return 200, "[]ActionUpdateResultResource", toAnyObjs(results), nil
}

func (s *Server) checkTemplate(d *spaceData, body obj, id string) *apiError {
	name := str(body["Name"])
	if strings.TrimSpace(name) == "" || str(body["ActionType"]) == "" {
		return errorf(400, "Model validation failed: Name and ActionType are required.")
	}
	for _, t := range d.templates {
		if t["Name"] == name && t["Id"] != id {
			return errorf(400, "Model validation failed: A step template with this name already exists.")
		}
	}
	for _, p := range anySlice(body["Packages"]) {
		pm := p.(obj)
		if pm["PackageId"] != nil && pm["PackageId"] != "" && (pm["FeedId"] == nil || pm["FeedId"] == "") {
			return errorf(400, "No Feed Id was specified.")
		}
	}
	return nil
}

// storeTemplate keeps what a server keeps of a template body: the fields
// the contract knows, with server-assigned Id, SpaceId, Version and
// parameter and package ids.
func (s *Server) storeTemplate(spaceID, id string, body obj, version int) obj {
	t := clone(body)
	t["Id"], t["SpaceId"], t["Version"] = id, spaceID, version
	t["LastModifiedBy"] = "test-user"
	t["Links"] = obj{"Self": "/api/" + spaceID + "/actiontemplates/" + id, "Usage": "/api/" + spaceID + "/actiontemplates/" + id + "/usage"}
	for _, k := range []string{"Parameters", "Packages"} {
		list := anySlice(t[k])
		for _, e := range list {
			if m, ok := e.(obj); ok && str(m["Id"]) == "" {
				m["Id"] = newGUID(s)
			}
		}
		t[k] = list
	}
	if t["Properties"] == nil {
		t["Properties"] = obj{}
	}
	return t
}
