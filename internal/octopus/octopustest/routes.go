package octopustest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Routing. Two net/http ServeMuxes route every request with method and
// path patterns: s.mux routes /api, the spaces collection and hands what
// is below /api/{space} to s.spaceMux once the space exists. There are two
// because /api/spaces/{id} and /api/{space}/projects (say) both match
// /api/spaces/projects with neither more specific, which one ServeMux
// refuses as a conflict.
//
// Each pattern answers exactly as the server always has:
//   - an unknown space is a 404 whatever the method or path below it;
//   - a path the server does not know is a 404;
//   - a method a route does not serve is answered by the route's other
//     endpoint: 405 where the server serves the path with other methods
//     (spaces, process, project variables), unserved (below) elsewhere,
//     and 404 everywhere under actiontemplates. HEAD is one of those
//     methods: the server serves no HEAD, though a ServeMux hands HEAD to
//     a GET pattern (see getOnly).

// endpoint answers one routed request: the status, the contract
// definition the response is checked against ("" for none, see write) and
// the body, or an error (an *apiError carries its status).
type endpoint func(r *http.Request) (int, string, any, error)

func notFound(*http.Request) (int, string, any, error) { return 0, "", nil, errNotFound() }

func methodNotAllowed(*http.Request) (int, string, any, error) {
	return 0, "", nil, errorf(http.StatusMethodNotAllowed, "method not allowed")
}

// unserved answers a method a resource does not serve: a method of the
// REST API (GET, PUT, POST, DELETE) is a 404, as the route does not exist
// for it here; any other method is a 405.
func unserved(r *http.Request) (int, string, any, error) {
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete:
		return notFound(r)
	}
	return methodNotAllowed(r)
}

type router struct {
	s   *Server
	mux *http.ServeMux
}

// handle registers one pattern.
func (rt router) handle(pattern string, ep endpoint) {
	rt.mux.HandleFunc(pattern, rt.s.serveEndpoint(ep))
}

// route registers the endpoints of path by method, and other for every
// other method.
func (rt router) route(path string, other endpoint, byMethod map[string]endpoint) {
	for method, ep := range byMethod {
		if method == http.MethodGet {
			ep = getOnly(ep, other)
		}
		rt.handle(method+" "+path, ep)
	}
	rt.handle(path, other)
}

// getAll registers GET path, a literal beside a {id} wildcard (".../all").
// It gets no pattern for other methods, which would conflict with the
// wildcard's method patterns: they fall to the {id} patterns, which answer
// for the id "all" as for any unknown id. HEAD gets head, which is what
// those answer.
func (rt router) getAll(path string, ep, head endpoint) {
	rt.handle("GET "+path, getOnly(ep, head))
}

// getOnly keeps HEAD, which a GET pattern matches too, from a GET
// endpoint: the server serves no HEAD, so HEAD gets what other methods get.
// (A HEAD pattern beside each GET one would do the same, but the mux finds
// HEAD /x/{id} in conflict with GET /x/all.)
func getOnly(get, other endpoint) endpoint {
	return func(r *http.Request) (int, string, any, error) {
		if r.Method == http.MethodHead {
			return other(r)
		}
		return get(r)
	}
}

// serveEndpoint runs an endpoint on a routed request and writes its
// answer. The endpoint sees the URL as the client sent it (collection
// links name it), with the path values of the pattern that matched.
func (s *Server) serveEndpoint(ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.URL = r.Context().Value(clientURLKey{}).(*url.URL)
		status, def, body, err := ep(r)
		if err != nil {
			writeError(w, err)
			return
		}
		s.write(w, status, def, body)
	}
}

// routes builds both muxes.
func (s *Server) routes() {
	top := router{s, http.NewServeMux()}
	top.route("/api", notFound, map[string]endpoint{http.MethodGet: s.getRoot})
	s.spacesRoutes(top)
	top.mux.HandleFunc("/api/{space}", s.serveSpace)
	top.mux.HandleFunc("/api/{space}/{rest...}", s.serveSpace)
	top.handle("/", notFound)

	in := router{s, http.NewServeMux()}
	in.route("/api/{space}", notFound, map[string]endpoint{http.MethodGet: s.getSpaceRoot})
	// A kind of resource the server does not know.
	in.handle("/api/{space}/{rest...}", unserved)
	s.projectRoutes(in)
	s.gitRoutes(in)
	s.environmentRoutes(in)
	s.variableRoutes(in)
	s.machineRoutes(in)
	s.templateRoutes(in)
	s.processRoutes(in)
	s.feedRoutes(in)
	s.packageRoutes(in)
	in.handle("/", notFound)
	s.mux, s.spaceMux = top.mux, in.mux
}

// serveSpace hands a request below an existing space to the space mux.
func (s *Server) serveSpace(w http.ResponseWriter, r *http.Request) {
	if s.data[r.PathValue("space")] == nil {
		writeError(w, errNotFound())
		return
	}
	s.spaceMux.ServeHTTP(w, r)
}

// spaceOf returns the space a request routed below /api/{space} is in
// (serveSpace has checked that it exists).
func (s *Server) spaceOf(r *http.Request) (string, *spaceData) {
	id := r.PathValue("space")
	return id, s.data[id]
}

type clientURLKey struct{}

// emptySegment stands for an empty path segment (a doubled slash) on its
// way through a mux, which would otherwise redirect the request to the
// cleaned path; no id or name has it.
const emptySegment = "\x00"

// routedRequest returns the request the muxes route, and false for a path
// outside /api. Its path is the client's below /api split at its escaped
// slashes (a Git ref sent as refs%2Fheads%2Fmain stays one segment),
// without the leading and trailing slashes, which the server has always
// ignored, and each segment escaped again, dot segments and empty ones
// included, so that a mux neither cleans nor redirects it: they reach the
// endpoints as the unknown ids they are.
func routedRequest(r *http.Request) (*http.Request, bool) {
	if r.URL.Path != "/api" && !strings.HasPrefix(r.URL.Path, "/api/") {
		return nil, false
	}
	var b strings.Builder
	b.WriteString("/api")
	rest := strings.Trim(strings.TrimPrefix(r.URL.EscapedPath(), "/api"), "/")
	if rest != "" {
		for _, seg := range strings.Split(rest, "/") {
			if u, err := url.PathUnescape(seg); err == nil {
				seg = u
			}
			b.WriteByte('/')
			switch seg {
			case "":
				b.WriteString(url.PathEscape(emptySegment))
			case ".", "..":
				b.WriteString(strings.Repeat("%2E", len(seg)))
			default:
				b.WriteString(url.PathEscape(seg))
			}
		}
	}
	u := *r.URL
	u.RawPath = b.String()
	u.Path, _ = url.PathUnescape(u.RawPath)
	routed := r.WithContext(context.WithValue(r.Context(), clientURLKey{}, r.URL))
	routed.URL = &u
	return routed, true
}

// pathValue is r.PathValue with an empty segment given back as "".
func pathValue(r *http.Request, name string) string {
	if v := r.PathValue(name); v != emptySegment {
		return v
	}
	return ""
}

// readOnly registers a collection the server only reads: GET base (paged,
// filtered by name, partialName and ids), GET base/all and GET base/{id},
// where get finds the item. Other methods are unserved; paths below an
// item get deeper.
func (rt router) readOnly(base, def string, items func(r *http.Request) []obj, get func(items []obj, id string) obj, deeper endpoint) {
	rt.route(base, unserved, map[string]endpoint{http.MethodGet: page(def, func(r *http.Request) []obj { return filterByName(r, items(r)) })})
	rt.getAll(base+"/all", whole(def, items), unserved)
	rt.route(base+"/{id}", unserved, map[string]endpoint{http.MethodGet: func(r *http.Request) (int, string, any, error) {
		if o := get(items(r), pathValue(r, "id")); o != nil {
			return 200, def, o, nil
		}
		return notFound(r)
	}})
	rt.handle(base+"/{id}/{rest...}", deeper)
}

// page is the GET endpoint of a collection of def: the items a request
// selects, paged.
func page(def string, items func(r *http.Request) []obj) endpoint {
	return func(r *http.Request) (int, string, any, error) {
		return 200, "*" + def, collection(r, items(r)), nil
	}
}

// whole is the GET endpoint of a collection's all: every item, unpaged.
func whole(def string, items func(r *http.Request) []obj) endpoint {
	return func(r *http.Request) (int, string, any, error) {
		return 200, "[]" + def, toAnyObjs(items(r)), nil
	}
}

// loader finds the resource a routed request names, in its space; a
// missing one is an error (a 404).
type loader func(r *http.Request) (*spaceData, obj, *apiError)

// read is the GET endpoint of the resource load finds.
func read(load loader, def string) endpoint {
	return func(r *http.Request) (int, string, any, error) {
		_, o, err := load(r)
		if err != nil {
			return 0, "", nil, err
		}
		return 200, def, o, nil
	}
}

// loaded is the endpoint for the methods a route does not serve when the
// route first looks its resource up: a missing resource is a 404 whatever
// the method, an existing one gets other.
func (s *Server) loaded(load loader, other endpoint) endpoint {
	return func(r *http.Request) (int, string, any, error) {
		if _, _, err := load(r); err != nil {
			return 0, "", nil, err
		}
		return other(r)
	}
}
