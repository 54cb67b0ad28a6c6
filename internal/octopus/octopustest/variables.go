package octopustest

import "net/http"

// Variable sets: GET and PUT /variables/{id}; a PUT must carry the stored
// Version (a stale set is a 400) and keeps the secrets of sensitive
// variables sent back with their ids.

// Variable is a project variable as tests arrange and inspect it; for a
// sensitive variable Value is the stored secret.
type Variable struct {
	ID           string
	Name         string
	Value        string
	Sensitive    bool
	Environments []string
}

// SetVariables replaces a project's variables (bumping the set's Version,
// as an edit in the UI would).
func (s *Server) SetVariables(spaceID, projectID string, vars []Variable) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	vs := d.varsets["variableset-"+projectID]
	var list []any
	for _, v := range vars {
		if v.ID == "" {
			v.ID = newGUID(s)
		}
		typ, value := "String", any(v.Value)
		if v.Sensitive {
			typ, value = "Sensitive", nil
			d.secrets[v.ID] = v.Value
		}
		scope := obj{}
		if len(v.Environments) > 0 {
			scope["Environment"] = toAny(v.Environments)
		}
		list = append(list, obj{"Id": v.ID, "Name": v.Name, "Value": value, "Type": typ, "IsSensitive": v.Sensitive, "IsEditable": true,
			"Description": nil, "Scope": scope, "Prompt": nil})
	}
	vs["Variables"] = list
	vs["Version"] = toInt(vs["Version"]) + 1
}

// Variables returns a project's variables with sensitive values revealed.
func (s *Server) Variables(spaceID, projectID string) []Variable {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	var out []Variable
	for _, e := range d.varsets["variableset-"+projectID]["Variables"].([]any) {
		v := e.(obj)
		sv := Variable{ID: str(v["Id"]), Name: str(v["Name"]), Value: str(v["Value"]), Sensitive: v["IsSensitive"] == true}
		if sv.Sensitive {
			sv.Value = d.secrets[sv.ID]
		}
		if sc, ok := v["Scope"].(obj); ok {
			sv.Environments = strs(sc["Environment"])
		}
		out = append(out, sv)
	}
	return out
}

func (s *Server) variableRoutes(rt router) {
	const base = "/api/{space}/variables"
	rt.handle(base, unserved)
	rt.route(base+"/{id}", s.loaded(s.variableSet, unserved), map[string]endpoint{http.MethodGet: read(s.variableSet, "VariableSetResource"), http.MethodPut: s.putVariableSet})
	rt.handle(base+"/{id}/{rest...}", unserved)
}

// variableSet returns the space and the variable set a request names by {id}.
func (s *Server) variableSet(r *http.Request) (*spaceData, obj, *apiError) {
	_, d := s.spaceOf(r)
	if vs, ok := d.varsets[pathValue(r, "id")]; ok {
		return d, vs, nil
	}
	return nil, nil, errNotFound()
}

func (s *Server) putVariableSet(r *http.Request) (int, string, any, error) {
	d, vs, err := s.variableSet(r)
	if err != nil {
		return 0, "", nil, err
	}
	out, err := s.putVariables(r, d, vs)
	if err != nil {
		return 0, "", nil, err
	}
	return 200, "VariableSetResource", out, nil
}

func (s *Server) putVariables(r *http.Request, d *spaceData, stored obj) (obj, *apiError) {
	body, err := s.readBody(r, "VariableSetResource")
	if err != nil {
		return nil, err
	}
	if toInt(body["Version"]) != toInt(stored["Version"]) {
		return nil, errorf(400, "Changes to these variables could not be saved, because another user has made changes to the variables between when you started editing and when you saved your changes. Please reload or open a new tab to make your changes.")
	}
	var out []any
	seen := map[string]bool{}
	for _, e := range anySlice(body["Variables"]) {
		v, _ := e.(obj)
		if v == nil || str(v["Name"]) == "" {
			return nil, errorf(400, "Model validation failed: every variable needs a name")
		}
		id := str(v["Id"])
		if id == "" {
			id = newGUID(s)
		}
		if seen[id] {
			return nil, errorf(400, "Model validation failed: variable id %s appears twice", id)
		}
		seen[id] = true
		sensitive := v["IsSensitive"] == true || v["Type"] == "Sensitive"
		// The server keeps every field it knows as it was sent (a prompt's
		// display settings and select options included) and fills in the
		// ones left out.
		nv := clone(v)
		nv["Id"], nv["Type"], nv["IsSensitive"] = id, orDefault(v["Type"], "String"), sensitive
		nv["IsEditable"], nv["Scope"] = orDefault(v["IsEditable"], true), orDefault(v["Scope"], obj{})
		for _, k := range []string{"Description", "Prompt", "Value"} {
			if _, ok := nv[k]; !ok {
				nv[k] = nil
			}
		}
		if sensitive {
			nv["Type"] = "Sensitive"
			// The server's rule: a sensitive variable sent with its Id and
			// no new value keeps the stored secret; without the Id it is a
			// new variable whose (empty) value replaces everything.
			if val := str(v["Value"]); val != "" || v["Id"] == nil || v["Id"] == "" {
				d.secrets[id] = val
			}
			nv["Value"] = nil
		}
		out = append(out, nv)
	}
	// Secrets of this set's variables that were not sent back are gone;
	// other sets' secrets are not this write's business.
	for _, e := range anySlice(stored["Variables"]) {
		if id := str(e.(obj)["Id"]); !seen[id] {
			delete(d.secrets, id)
		}
	}
	stored["Variables"] = out
	stored["Version"] = toInt(stored["Version"]) + 1
	return stored, nil
}
