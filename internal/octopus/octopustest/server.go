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
//
// This file holds the server's construction, state and the path every
// request takes before routing (faults, the API key); routes.go routes with
// net/http ServeMux patterns, and each resource has a file of its own
// (spaces.go, projects.go, environments.go, variables.go, machines.go,
// templates.go, processes.go, packages.go, cac.go).
package octopustest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
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
	// mux routes /api and the spaces collection; spaceMux routes what is
	// below /api/{space} (routes.go).
	mux, spaceMux *http.ServeMux

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
	s.routes()
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

func (s *Server) space(id string) *spaceData {
	d, ok := s.data[id]
	if !ok {
		panic("octopustest: no space " + id)
	}
	return d
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	status := s.handle(w, r)
	s.mu.Lock()
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Status: status})
	s.mu.Unlock()
}

// handle applies an injected fault, checks the API key and routes what is
// below /api; it returns the status it answered (0 when the client gave up
// during an injected delay).
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
	routed, ok := routedRequest(r)
	if !ok {
		return writeError(w, errNotFound())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w}
	s.mux.ServeHTTP(rec, routed)
	return rec.status
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

// statusRecorder remembers the status a handler answered, for the request
// log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}
