package octopustest

import (
	"net/http"
	"slices"
	"strconv"
)

// Deployment targets (machines): the collection with its query filters,
// all, and GET and PUT of one target, where the PUT body replaces the
// target except for the fields the server owns.

// Machine is a deployment target as tests arrange and inspect it.
type Machine struct {
	ID             string
	Name           string
	Roles          []string
	EnvironmentIDs []string
	// HealthStatus is Healthy, HasWarnings, Unhealthy, Unavailable or Unknown.
	HealthStatus string
	IsDisabled   bool
}

// AddMachine creates a deployment target (a cloud region, which needs no
// endpoint details) and returns its id.
func (s *Server) AddMachine(spaceID string, m Machine) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.space(spaceID)
	id := s.nextID("Machines")
	if m.HealthStatus == "" {
		m.HealthStatus = "Healthy"
	}
	d.machines = append(d.machines, obj{"Id": id, "Name": m.Name, "SpaceId": spaceID, "Roles": toAny(m.Roles), "EnvironmentIds": toAny(m.EnvironmentIDs),
		"HealthStatus": m.HealthStatus, "IsDisabled": m.IsDisabled, "Status": "Online", "StatusSummary": "", "HasLatestCalamari": true,
		"IsInProcess": false, "MachinePolicyId": "MachinePolicies-1", "TenantedDeploymentParticipation": "Untenanted", "TenantIds": []any{}, "TenantTags": []any{},
		"Endpoint": obj{"CommunicationStyle": "None", "DefaultWorkerPoolId": "", "Id": nil, "Links": obj{}},
		"Links":    obj{"Self": "/api/" + spaceID + "/machines/" + id}})
	return id
}

// Machine returns a deployment target's current state.
func (s *Server) Machine(spaceID, id string) Machine {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := find(s.space(spaceID).machines, id)
	if m == nil {
		panic("octopustest: no machine " + id)
	}
	return Machine{ID: id, Name: str(m["Name"]), Roles: strs(m["Roles"]), EnvironmentIDs: strs(m["EnvironmentIds"]),
		HealthStatus: str(m["HealthStatus"]), IsDisabled: m["IsDisabled"] == true}
}

// SetHealth changes a target's health, as a health check would.
func (s *Server) SetHealth(spaceID, id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	find(s.space(spaceID).machines, id)["HealthStatus"] = status
}

func (s *Server) machineRoutes(rt router) {
	const base = "/api/{space}/machines"
	machines := func(r *http.Request) []obj {
		_, d := s.spaceOf(r)
		return d.machines
	}
	rt.route(base, unserved, map[string]endpoint{http.MethodGet: page("DeploymentTargetResource", func(r *http.Request) []obj { return filterMachines(r, machines(r)) })})
	rt.getAll(base+"/all", whole("DeploymentTargetResource", machines), notFound)
	rt.route(base+"/{id}", s.loaded(s.machine, unserved), map[string]endpoint{http.MethodGet: read(s.machine, "DeploymentTargetResource"), http.MethodPut: s.updateMachine})
	rt.handle(base+"/{id}/{rest...}", unserved)
}

// machine returns the space and the target a request names by {id}.
func (s *Server) machine(r *http.Request) (*spaceData, obj, *apiError) {
	_, d := s.spaceOf(r)
	if m := find(d.machines, pathValue(r, "id")); m != nil {
		return d, m, nil
	}
	return nil, nil, errNotFound()
}

func (s *Server) updateMachine(r *http.Request) (int, string, any, error) {
	d, m, err := s.machine(r)
	if err != nil {
		return 0, "", nil, err
	}
	if err := s.putMachine(r, d, m); err != nil {
		return 0, "", nil, err
	}
	return 200, "DeploymentTargetResource", m, nil
}

// serverOwnedMachineFields are the fields of a deployment target that
// the server keeps for itself (identity, health checks, links): a PUT
// cannot change them.
var serverOwnedMachineFields = []string{"Id", "SpaceId", "HealthStatus", "Status", "StatusSummary", "HasLatestCalamari",
	"IsInProcess", "Links", "LastModifiedBy", "LastModifiedOn"}

// putMachine stores a PUT deployment target as a real server does: the
// whole body replaces the target, so a field the client leaves out is
// lost and an Endpoint sent as null is rejected (the server needs one to
// reach the target).
func (s *Server) putMachine(r *http.Request, d *spaceData, m obj) *apiError {
	body, err := s.readBody(r, "DeploymentTargetResource")
	if err != nil {
		return err
	}
	if str(body["Id"]) != "" && body["Id"] != m["Id"] {
		return errorf(400, "Model validation failed: the Id in the body differs from the URL")
	}
	roles, envs := strs(body["Roles"]), strs(body["EnvironmentIds"])
	if len(roles) == 0 {
		return errorf(400, "Model validation failed: Please specify at least one target role.")
	}
	if len(envs) == 0 {
		return errorf(400, "Model validation failed: Please specify at least one environment.")
	}
	for _, e := range envs {
		if find(d.environments, e) == nil {
			return errorf(400, "Model validation failed: environment %s does not exist", e)
		}
	}
	if ep, ok := body["Endpoint"].(obj); !ok || str(ep["CommunicationStyle"]) == "" {
		return errorf(400, "Model validation failed: Please specify the endpoint (CommunicationStyle) of the deployment target.")
	}
	if str(body["Name"]) == "" {
		return errorf(400, "Model validation failed: Please specify a name.")
	}
	for k := range m {
		if _, sent := body[k]; !sent && !slices.Contains(serverOwnedMachineFields, k) {
			delete(m, k)
		}
	}
	for k, v := range body {
		if !slices.Contains(serverOwnedMachineFields, k) {
			m[k] = v
		}
	}
	return nil
}

// filterMachines applies the machines endpoint's query filters; lists are
// comma-separated, and a machine matches a list filter when it has any of
// the values, as on the server.
func filterMachines(r *http.Request, items []obj) []obj {
	q := r.URL.Query()
	roles, envs, health := splitList(q["roles"]), splitList(q["environmentIds"]), splitList(q["healthStatuses"])
	var out []obj
	for _, m := range filterByName(r, items) {
		if len(roles) > 0 && !overlaps(roles, strs(m["Roles"])) {
			continue
		}
		if len(envs) > 0 && !overlaps(envs, strs(m["EnvironmentIds"])) {
			continue
		}
		if len(health) > 0 && !slices.Contains(health, str(m["HealthStatus"])) {
			continue
		}
		if d := q.Get("isDisabled"); d != "" && strconv.FormatBool(m["IsDisabled"] == true) != d {
			continue
		}
		out = append(out, m)
	}
	return out
}
