package octopustest

import (
	"encoding/json"
	"fmt"
)

// The helpers in this file arrange and inspect resources as the server's
// own JSON, for tests that prove a client sends back what it does not own
// exactly as it was: prompted variables with select options, step-package
// targets, tenanted targets, and fields of servers newer than the 2020.5
// contract (see Newer).

// Newer makes the server accept and keep properties and enum values that
// servers newer than the 2020.5 contract have, as a newer server would:
// props are property names of the definition def (any JSON value), and
// NewerEnum adds values to an enum property. A client that drops or
// rewrites them is then caught by comparing the resource before and after.
func (s *Server) Newer(def string, props ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newerLocked(def, props...)
}

func (s *Server) newerLocked(def string, props ...string) {
	d := s.contract.defs[def]
	if d == nil {
		panic("octopustest: no definition " + def)
	}
	cp := *d
	cp.Properties = map[string]*schema{}
	for k, v := range d.Properties {
		cp.Properties[k] = v
	}
	for _, p := range props {
		// "any" is no Swagger type: walk checks nothing beneath it.
		cp.Properties[p] = &schema{Type: "any"}
	}
	s.contract.defs[def] = &cp
}

// NewerEnum adds values to the enum of def's property prop.
func (s *Server) NewerEnum(def, prop string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.contract.defs[def]
	if d == nil || d.Properties[prop] == nil {
		panic(fmt.Sprintf("octopustest: no property %s.%s", def, prop))
	}
	cp := *d
	cp.Properties = map[string]*schema{}
	for k, v := range d.Properties {
		cp.Properties[k] = v
	}
	ps := *d.Properties[prop]
	ps.Enum = append(append([]string(nil), ps.Enum...), values...)
	cp.Properties[prop] = &ps
	s.contract.defs[def] = &cp
}

// AddMachineJSON creates a deployment target from its whole JSON (without
// Id, SpaceId and Links, which the server assigns) and returns its id. The
// body is checked against the contract like a client's would be.
func (s *Server) AddMachineJSON(spaceID string, m map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	id := s.nextID("Machines")
	o := clone(m)
	o["Id"], o["SpaceId"] = id, spaceID
	o["Links"] = obj{"Self": "/api/" + spaceID + "/machines/" + id}
	if errs := s.contract.check("DeploymentTargetResource", decodeNumbers(mustJSON(o))); len(errs) > 0 {
		panic(fmt.Sprintf("octopustest: AddMachineJSON: %v", errs))
	}
	d.machines = append(d.machines, o)
	return id
}

// MachineJSON returns a deployment target's stored JSON.
func (s *Server) MachineJSON(spaceID, id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := find(s.space(spaceID).machines, id)
	if m == nil {
		panic("octopustest: no machine " + id)
	}
	return clone(m)
}

// SetVariablesJSON replaces a project's variables with whole variable
// objects (Id assigned when missing; a sensitive one's Value is kept as
// its secret) and bumps the set's Version, as an edit in the UI would.
func (s *Server) SetVariablesJSON(spaceID, projectID string, vars []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	vs := d.varsets["variableset-"+projectID]
	list := []any{}
	for _, v := range vars {
		o := clone(v)
		if str(o["Id"]) == "" {
			o["Id"] = newGUID(s)
		}
		if o["IsSensitive"] == true {
			d.secrets[str(o["Id"])] = str(o["Value"])
			o["Value"] = nil
		}
		list = append(list, o)
	}
	vs["Variables"] = list
	if errs := s.contract.check("VariableSetResource", decodeNumbers(mustJSON(vs))); len(errs) > 0 {
		panic(fmt.Sprintf("octopustest: SetVariablesJSON: %v", errs))
	}
	vs["Version"] = toInt(vs["Version"]) + 1
}

// VariableSetJSON returns a project's stored variable set.
func (s *Server) VariableSetJSON(spaceID, projectID string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.space(spaceID).varsets["variableset-"+projectID])
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// AddTemplateJSON stores a step template from its whole JSON as a server
// that already had it would (Version 0, server-assigned Id) and returns
// its id.
func (s *Server) AddTemplateJSON(spaceID string, t map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	if errs := s.contract.check("ActionTemplateResource", decodeNumbers(mustJSON(t))); len(errs) > 0 {
		panic(fmt.Sprintf("octopustest: AddTemplateJSON: %v", errs))
	}
	id := s.nextID("ActionTemplates")
	st := s.storeTemplate(spaceID, id, clone(t), 0)
	d.templates = append(d.templates, st)
	d.versions[id] = map[int]obj{0: clone(st)}
	return id
}
