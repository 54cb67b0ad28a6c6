// Package octopustest is an in-memory Octopus Deploy server for tests. It
// serves the parts of the Octopus Server 2020.5 REST API that bluegreen
// uses (root and space documents, spaces, projects, environments, variable
// sets, deployment targets, step templates with usage and actionsUpdate,
// the built-in feed and raw package upload) and holds every request body
// to the API contract: an unknown or mistyped field is a 400, as it would
// be a bug against a real server. It checks the X-Octopus-ApiKey header,
// keeps state across requests, enforces variable-set Version checks, bumps
// template Versions on the server side, and can inject failures (5xx, 409,
// slow responses). Tests drive it through the real go-octopusdeploy client.
package octopustest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultSpaceID is the id of the space every Server starts with (named
// "Default", the server's default space).
const DefaultSpaceID = "Spaces-1"

// BuiltInFeedID is the id of the built-in package feed in every space.
const BuiltInFeedID = "feeds-builtin"

// APIKey is the key a Server accepts unless the test sets another.
const APIKey = "API-TESTKEY0123456789"

type obj = map[string]any

// Server is the in-memory Octopus server. Its helper methods (AddProject,
// Machine, ...) let a test arrange and inspect state without going through
// HTTP; everything a client does goes through HTTP.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string
	// APIKey is the only key the server accepts.
	APIKey string

	srv      *httptest.Server
	contract *contract

	mu     sync.Mutex
	seq    map[string]int
	spaces []obj
	data   map[string]*spaceData
	faults []*Fault
	log    []Request
	git    map[string]*gitProject // project id → Git-stored variables (cac.go)
	// processes holds deployment processes by id (processes.go).
	processes map[string]obj
}

type spaceData struct {
	projects, environments, machines, templates []obj
	varsets                                     map[string]obj
	// secrets holds sensitive variable values by variable id: the API
	// never returns them.
	secrets  map[string]string
	versions map[string]map[int]obj // template id → version → snapshot
	usage    map[string][]obj       // template id → usages
	manual   map[string]bool        // action ids whose update needs a manual merge
	packages []*Package
}

// Package is an uploaded package.
type Package struct {
	PackageID string
	Version   string
	FileName  string
	Data      []byte
	Published time.Time
}

// Request is one request the server received, for assertions.
type Request struct {
	Method string
	Path   string
	Status int
}

// Fault makes matching requests fail or slow down.
type Fault struct {
	// Method matches the request method; "" matches any.
	Method string
	// Path is a regular expression matched against the URL path.
	Path string
	// Status, when not 0, is returned instead of serving the request
	// (e.g. 500, 503, 409).
	Status int
	// Delay is waited before the request is served (or failed); the wait
	// ends early when the client gives up.
	Delay time.Duration
	// EchoHeaders makes the failure an HTML page that echoes the request's
	// headers, API key included, as some proxies and debug error pages
	// do: the client must not carry the key on into its errors.
	EchoHeaders bool
	// Times is how many requests the fault hits; 0 means every request.
	Times int
	// Do, when set, runs before the request is served, outside the
	// server's lock, so it may change state through the helpers: a
	// concurrent edit between a client's read and its write, say.
	Do func()

	re   *regexp.Regexp
	hits int
}

// New starts a Server on a loopback port and stops it when the test ends.
func New(t testing.TB) *Server {
	s := &Server{
		APIKey:   APIKey,
		contract: loadContract(),
		seq:      map[string]int{},
		data:     map[string]*spaceData{},
	}
	s.AddSpace("Default")
	s.spaces[0]["IsDefault"] = true
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the server early (to test an unreachable server).
func (s *Server) Close() { s.srv.Close() }

func (s *Server) nextID(prefix string) string {
	s.seq[prefix]++
	return fmt.Sprintf("%s-%d", prefix, s.seq[prefix])
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.re = regexp.MustCompile(f.Path)
	s.faults = append(s.faults, &f)
}

// Requests returns the requests served so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// CountRequests counts served requests by method and a path regexp.
func (s *Server) CountRequests(method, path string) int {
	re := regexp.MustCompile(path)
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && re.MatchString(r.Path) {
			n++
		}
	}
	return n
}

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

func (s *Server) space(id string) *spaceData {
	d, ok := s.data[id]
	if !ok {
		panic("octopustest: no space " + id)
	}
	return d
}

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

// Packages returns the uploaded packages.
func (s *Server) Packages(spaceID string) []Package {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Package
	for _, p := range s.space(spaceID).packages {
		out = append(out, *p)
	}
	return out
}

// ---- HTTP ----

type apiError struct {
	status int
	msg    string
	errs   []string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, a ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, a...)}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	status := s.handle(w, r)
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Status: status})
	s.mu.Unlock()
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) int {
	if f := s.fault(r); f != nil {
		if f.Do != nil {
			f.Do()
		}
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return 0
			}
		}
		if f.Status != 0 && f.EchoHeaders {
			return writeEcho(w, r, f.Status)
		}
		if f.Status != 0 {
			return writeError(w, &apiError{status: f.Status, msg: fmt.Sprintf("injected failure (%d)", f.Status)})
		}
	}
	if r.Header.Get("X-Octopus-ApiKey") != s.APIKey {
		return writeError(w, errorf(http.StatusUnauthorized, "You must be logged in to perform this action. Please provide a valid API key or log in again."))
	}
	if !strings.HasPrefix(r.URL.Path, "/api") {
		return writeError(w, errorf(http.StatusNotFound, "The resource you requested was not found."))
	}
	// Segments are split before unescaping: a Git ref in a path
	// (refs%2Fheads%2Fmain) is one segment.
	seg := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), "/api"), "/"), "/")
	for i, x := range seg {
		if u, err := url.PathUnescape(x); err == nil {
			seg[i] = u
		}
	}
	if len(seg) == 1 && seg[0] == "" {
		seg = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, def, body, err := s.route(r, seg)
	if err != nil {
		return writeError(w, err)
	}
	return s.write(w, status, def, body)
}

func (s *Server) fault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if (f.Method == "" || f.Method == r.Method) && f.re.MatchString(r.URL.Path) && (f.Times == 0 || f.hits < f.Times) {
			f.hits++
			return f
		}
	}
	return nil
}

// write encodes a response. A response object is checked against the
// contract too (def names its definition; "[]X" an array of X, "*X" a
// collection of X): the fake must not teach the client anything a real
// server would not send.
func (s *Server) write(w http.ResponseWriter, status int, def string, body any) int {
	b, err := json.Marshal(body)
	if err != nil {
		return writeError(w, errorf(500, "encode response: %v", err))
	}
	if def != "" {
		v := decodeNumbers(b)
		var errs []string
		switch {
		case strings.HasPrefix(def, "[]"):
			for i, e := range v.([]any) {
				for _, m := range s.contract.check(def[2:], e) {
					errs = append(errs, fmt.Sprintf("[%d]%s", i, m))
				}
			}
		case strings.HasPrefix(def, "*"):
			for i, e := range v.(obj)["Items"].([]any) {
				for _, m := range s.contract.check(def[1:], e) {
					errs = append(errs, fmt.Sprintf("Items[%d]%s", i, m))
				}
			}
		default:
			errs = s.contract.check(def, v)
		}
		if len(errs) > 0 {
			return writeError(w, &apiError{status: 500, msg: "octopustest: response breaks the contract", errs: errs})
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

func writeError(w http.ResponseWriter, e error) int {
	ae, ok := e.(*apiError)
	if !ok {
		ae = &apiError{status: 500, msg: e.Error()}
	}
	b, _ := json.Marshal(obj{"ErrorMessage": ae.msg, "Errors": ae.errs})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(ae.status)
	_, _ = w.Write(b)
	return ae.status
}

// readBody decodes a JSON request body and checks it against a contract
// definition.
func (s *Server) readBody(r *http.Request, def string) (obj, *apiError) {
	b, err := io.ReadAll(r.Body)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return nil, errorf(400, "No request body was supplied.")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(400, "The request body is not valid JSON: %v", err)
	}
	if errs := s.contract.check(def, v); len(errs) > 0 {
		return nil, &apiError{status: 400, msg: "The request body does not match " + def + ".", errs: errs}
	}
	o, ok := v.(obj)
	if !ok {
		return nil, errorf(400, "expected a JSON object")
	}
	return normalizeNumbers(o).(obj), nil
}

func (s *Server) route(r *http.Request, seg []string) (int, string, any, error) {
	get := r.Method == http.MethodGet
	switch {
	case len(seg) == 0 && get:
		return 200, "RootResource", s.root(), nil
	case len(seg) >= 1 && seg[0] == "spaces":
		return s.routeSpaces(r, seg[1:])
	case len(seg) >= 1 && strings.HasPrefix(seg[0], "Spaces-"):
		d, ok := s.data[seg[0]]
		if !ok {
			return 0, "", nil, errorf(404, "The resource you requested was not found.")
		}
		if len(seg) == 1 && get {
			return 200, "SpaceRootResource", s.spaceRoot(seg[0]), nil
		}
		if len(seg) >= 2 {
			return s.routeSpace(r, seg[0], d, seg[1], seg[2:])
		}
	}
	return 0, "", nil, errorf(404, "The resource you requested was not found.")
}

func (s *Server) root() obj {
	return obj{"Application": "Octopus Deploy", "Version": "2020.5.0", "ApiVersion": "3.0.0", "InstallationId": "8e9d9c3a-0000-4000-8000-000000000001",
		"IsEarlyAccessProgram": false, "HasLongTermSupport": true,
		"Links": obj{"Self": "/api", "Spaces": "/api/spaces{/id}{?skip,ids,take,partialName}", "SpaceHome": "/api/{spaceId}"}}
}

func (s *Server) spaceRoot(id string) obj {
	base := "/api/" + id
	return obj{"Id": nil, "Links": obj{"Self": base,
		"ActionTemplates": base + "/actiontemplates{/id}{?skip,take,ids,partialName}", "Environments": base + "/environments{/id}{?name,skip,ids,take,partialName}",
		"Feeds": base + "/feeds{/id}{?skip,take,ids,partialName,feedType,name}", "Machines": base + "/machines{/id}{?skip,take,name,ids,partialName,roles,isDisabled,healthStatuses,environmentIds}",
		"Packages": base + "/packages{/id}{?nuGetPackageId,filter,latest,skip,take,includeNotes}", "PackageUpload": base + "/packages/raw{?replace,overwriteMode}",
		"Projects": base + "/projects{/id}{?name,skip,ids,clone,take,partialName,clonedFromProjectId}", "Variables": base + "/variables{/id}{?ids}"}}
}

func (s *Server) routeSpaces(r *http.Request, rest []string) (int, string, any, error) {
	if r.Method != http.MethodGet {
		return 0, "", nil, errorf(405, "method not allowed")
	}
	switch {
	case len(rest) == 0:
		return 200, "*SpaceResource", collection(r, filterByName(r, s.spaces)), nil
	case rest[0] == "all":
		return 200, "[]SpaceResource", toAnyObjs(s.spaces), nil
	case len(rest) == 1:
		if sp := find(s.spaces, rest[0]); sp != nil {
			return 200, "SpaceResource", sp, nil
		}
	}
	return 0, "", nil, errorf(404, "The resource you requested was not found.")
}

func (s *Server) routeSpace(r *http.Request, spaceID string, d *spaceData, kind string, rest []string) (int, string, any, error) {
	get, put, post := r.Method == http.MethodGet, r.Method == http.MethodPut, r.Method == http.MethodPost
	notFound := errorf(404, "The resource you requested was not found.")
	switch kind {
	case "projects", "environments", "feeds":
		if kind == "projects" && len(rest) >= 2 {
			return s.routeProjectVariables(r, spaceID, d, rest)
		}
		list := map[string][]obj{"projects": d.projects, "environments": d.environments, "feeds": builtinFeed(spaceID)}[kind]
		def := map[string]string{"projects": "ProjectResource", "environments": "EnvironmentResource", "feeds": "FeedResource"}[kind]
		switch {
		case !get:
		case len(rest) == 0:
			return 200, "*" + def, collection(r, filterByName(r, list)), nil
		case rest[0] == "all":
			return 200, "[]" + def, toAnyObjs(list), nil
		case len(rest) == 1:
			for _, o := range list {
				if o["Id"] == rest[0] || (kind == "projects" && o["Slug"] == rest[0]) {
					return 200, def, o, nil
				}
			}
			return 0, "", nil, notFound
		}
	case "variables":
		if len(rest) != 1 {
			break
		}
		vs, ok := d.varsets[rest[0]]
		if !ok {
			return 0, "", nil, notFound
		}
		if get {
			return 200, "VariableSetResource", vs, nil
		}
		if put {
			out, err := s.putVariables(r, d, vs)
			if err != nil {
				return 0, "", nil, err
			}
			return 200, "VariableSetResource", out, nil
		}
	case "machines":
		switch {
		case get && len(rest) == 0:
			return 200, "*DeploymentTargetResource", collection(r, filterMachines(r, d.machines)), nil
		case get && rest[0] == "all":
			return 200, "[]DeploymentTargetResource", toAnyObjs(d.machines), nil
		case len(rest) == 1:
			m := find(d.machines, rest[0])
			if m == nil {
				return 0, "", nil, notFound
			}
			if get {
				return 200, "DeploymentTargetResource", m, nil
			}
			if put {
				if err := s.putMachine(r, d, m); err != nil {
					return 0, "", nil, err
				}
				return 200, "DeploymentTargetResource", m, nil
			}
		}
	case "actiontemplates":
		return s.routeTemplates(r, spaceID, d, rest)
	case "deploymentprocesses":
		return s.routeProcesses(r, spaceID, rest)
	case "packages":
		switch {
		case post && len(rest) == 1 && rest[0] == "raw":
			return s.upload(r, spaceID, d)
		case get && len(rest) == 0:
			var items []obj
			for _, p := range d.packages {
				if f := r.URL.Query().Get("filter"); f == "" || strings.Contains(p.PackageID, f) {
					items = append(items, packageResource(p))
				}
			}
			return 200, "*PackageFromBuiltInFeedResource", collection(r, items), nil
		}
	}
	if get || put || post || r.Method == http.MethodDelete {
		return 0, "", nil, notFound
	}
	return 0, "", nil, errorf(405, "method not allowed")
}

func (s *Server) routeTemplates(r *http.Request, spaceID string, d *spaceData, rest []string) (int, string, any, error) {
	notFound := errorf(404, "The resource you requested was not found.")
	switch {
	case r.Method == http.MethodGet && len(rest) == 0:
		return 200, "*ActionTemplateResource", collection(r, filterByName(r, d.templates)), nil
	case r.Method == http.MethodGet && rest[0] == "all":
		return 200, "[]ActionTemplateResource", toAnyObjs(d.templates), nil
	case r.Method == http.MethodPost && len(rest) == 0:
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
	t := find(d.templates, rest[0])
	if t == nil {
		return 0, "", nil, notFound
	}
	id := rest[0]
	switch {
	case len(rest) == 1 && r.Method == http.MethodGet:
		return 200, "ActionTemplateResource", t, nil
	case len(rest) == 1 && r.Method == http.MethodPut:
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
	case len(rest) == 1 && r.Method == http.MethodDelete:
		d.templates = slices.DeleteFunc(d.templates, func(o obj) bool { return o["Id"] == id })
		return 200, "", obj{}, nil
	case len(rest) == 3 && rest[1] == "versions" && r.Method == http.MethodGet:
		v, err := strconv.Atoi(rest[2])
		if snap, ok := d.versions[id][v]; err == nil && ok {
			return 200, "ActionTemplateResource", snap, nil
		}
		return 0, "", nil, notFound
	case len(rest) == 2 && rest[1] == "usage" && r.Method == http.MethodGet:
		return 200, "[]ActionTemplateUsageResource", toAnyObjs(d.usage[id]), nil
	case len(rest) == 2 && rest[1] == "actionsUpdate" && r.Method == http.MethodPost:
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
	return 0, "", nil, notFound
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

var packageFileRe = regexp.MustCompile(`^([A-Za-z0-9_.-]+?)\.(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)\.(tar\.gz|zip|tgz|nupkg|tar)$`)

func (s *Server) upload(r *http.Request, spaceID string, d *spaceData) (int, string, any, error) {
	f, hdr, err := r.FormFile("file")
	if err != nil {
		return 0, "", nil, errorf(400, "A package file must be provided")
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return 0, "", nil, errorf(400, "read package: %v", err)
	}
	if len(data) == 0 {
		return 0, "", nil, errorf(400, "The uploaded package file had length equal to 0. Please upload a non-empty file.")
	}
	m := packageFileRe.FindStringSubmatch(hdr.Filename)
	if m == nil {
		return 0, "", nil, errorf(400, "The package file name %q is not <PackageId>.<version>.<extension>", hdr.Filename)
	}
	p := &Package{PackageID: m[1], Version: m[2], FileName: hdr.Filename, Data: data, Published: time.Now().UTC()}
	mode := r.URL.Query().Get("overwriteMode")
	if mode == "" {
		if r.URL.Query().Get("replace") == "true" {
			mode = "OverwriteExisting"
		} else {
			mode = "FailIfExists"
		}
	}
	for i, old := range d.packages {
		if old.PackageID != p.PackageID || old.Version != p.Version {
			continue
		}
		switch mode {
		case "IgnoreIfExists":
			return 200, "PackageFromBuiltInFeedResource", packageResource(old), nil
		case "OverwriteExisting":
			d.packages[i] = p
			return 201, "PackageFromBuiltInFeedResource", packageResource(p), nil
		default:
			return 0, "", nil, errorf(409, "A package with the same ID and version already exists. Please either re-package with a different version, or use the overwrite mode when pushing.")
		}
	}
	d.packages = append(d.packages, p)
	return 201, "PackageFromBuiltInFeedResource", packageResource(p), nil
}

func packageResource(p *Package) obj {
	ext := strings.TrimPrefix(p.FileName, p.PackageID+"."+p.Version)
	return obj{"Id": "packages-" + p.PackageID + "." + p.Version, "PackageId": p.PackageID, "Version": p.Version, "FeedId": BuiltInFeedID,
		"NuGetPackageId": p.PackageID, "NuGetFeedId": BuiltInFeedID, "PackageSizeBytes": len(p.Data), "FileExtension": ext,
		"Published": p.Published.Format(time.RFC3339), "Title": p.PackageID, "Summary": "", "Description": "", "ReleaseNotes": "", "Hash": "", "Links": obj{}}
}

func builtinFeed(spaceID string) []obj {
	return []obj{{"Id": BuiltInFeedID, "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn", "SpaceId": spaceID,
		"PackageAcquisitionLocationOptions": []any{"Server", "ExecutionTarget"}, "Links": obj{}}}
}

// collection pages items as the server does: skip and take (default 30),
// with a Page.Next link while items remain.
func collection(r *http.Request, items []obj) obj {
	q := r.URL.Query()
	skip, _ := strconv.Atoi(q.Get("skip"))
	take, err := strconv.Atoi(q.Get("take"))
	if err != nil || take <= 0 {
		take = 30
	}
	page := []any{}
	for i := skip; i < len(items) && i < skip+take; i++ {
		page = append(page, items[i])
	}
	links := obj{"Self": r.URL.Path}
	if skip+take < len(items) {
		next := *r.URL
		nq := next.Query()
		nq.Set("skip", strconv.Itoa(skip+take))
		nq.Set("take", strconv.Itoa(take))
		next.RawQuery = nq.Encode()
		links["Page.Next"] = next.RequestURI()
	}
	return obj{"ItemType": "", "TotalResults": len(items), "ItemsPerPage": take, "NumberOfPages": (len(items) + take - 1) / max(take, 1),
		"LastPageNumber": max((len(items)+take-1)/max(take, 1)-1, 0), "Items": page, "Links": links}
}

func filterByName(r *http.Request, items []obj) []obj {
	q := r.URL.Query()
	name, partial, ids := q.Get("name"), strings.ToLower(q.Get("partialName")), splitList(q["ids"])
	var out []obj
	for _, o := range items {
		n := str(o["Name"])
		if (name == "" || strings.EqualFold(n, name)) && (partial == "" || strings.Contains(strings.ToLower(n), partial)) &&
			(len(ids) == 0 || slices.Contains(ids, str(o["Id"]))) {
			out = append(out, o)
		}
	}
	return out
}

// ---- helpers ----

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func find(list []obj, id string) obj {
	for _, o := range list {
		if o["Id"] == id {
			return o
		}
	}
	return nil
}

func str(v any) string { s, _ := v.(string); return s }

func strs(v any) []string {
	var out []string
	for _, e := range anySlice(v) {
		out = append(out, str(e))
	}
	return out
}

func anySlice(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case []string:
		return toAny(x)
	}
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

func toAnyObjs(l []obj) []any {
	out := make([]any, len(l))
	for i, x := range l {
		out[i] = x
	}
	return out
}

func toInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	case json.Number:
		i, _ := x.Int64()
		return int(i)
	}
	return 0
}

func orDefault(v, def any) any {
	if v == nil {
		return def
	}
	return v
}

func slug(name string) string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(name), "-"), "-")
}

func newGUID(s *Server) string {
	n := s.seq["guid"] + 1
	s.seq["guid"] = n
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
}

func clone(o obj) obj {
	b, _ := json.Marshal(o)
	var c obj
	_ = json.Unmarshal(b, &c)
	return normalizeNumbers(c).(obj)
}

func decodeNumbers(b []byte) any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

// normalizeNumbers turns json.Number and float64 into int, the only
// numbers the resources hold.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
		return x
	case json.Number:
		return toInt(x)
	case float64:
		return int(x)
	}
	return v
}

// writeEcho writes an HTML error page listing the request's headers.
func writeEcho(w http.ResponseWriter, r *http.Request, status int) int {
	var b strings.Builder
	fmt.Fprintf(&b, "<html><body><h1>%d Internal Server Error</h1><pre>%s %s\n", status, r.Method, r.URL.Path)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
	}
	b.WriteString("</pre></body></html>")
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
	return status
}
