package octopustest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// call sends one request with the path exactly as given (escapes, doubled
// slashes and dot segments included) and returns the status and the
// decoded JSON body. Every answer must be the server's JSON: a ServeMux's
// own 404, 405 or redirect (plain text, an Allow or Location header) is a
// routing leak.
func call(t *testing.T, s *Server, method, path string, withKey bool) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if withKey {
		req.Header.Set("X-Octopus-ApiKey", s.APIKey)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want the server's JSON", method, path, ct)
	}
	if h := resp.Header.Get("Allow") + resp.Header.Get("Location"); h != "" {
		t.Errorf("%s %s: mux header %q leaked", method, path, h)
	}
	var out map[string]any
	if method != http.MethodHead {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Errorf("%s %s: body %q is not a JSON object", method, path, b)
		}
	}
	return resp.StatusCode, out
}

const (
	msgNotFound = "The resource you requested was not found."
	msgMethod   = "method not allowed"
)

// TestRoutingEdges pins how strictly the server routes: trailing slashes,
// methods a route does not serve (HEAD included), unknown spaces, the case
// of ids and kinds, paths a mux would clean or redirect, Git refs with
// escaped slashes, and paths below a resource that do not exist.
func TestRoutingEdges(t *testing.T) {
	s := New(t)
	web := s.AddProject(DefaultSpaceID, "Web")
	cac := s.AddGitProject(DefaultSpaceID, "Cac", "main")
	s.AddEnvironment(DefaultSpaceID, "Prod")
	other := s.AddSpace("Other")
	s.AddProject(other, "Elsewhere")
	tmpl := s.AddTemplateJSON(DefaultSpaceID, map[string]any{"Name": "T", "ActionType": "Octopus.Script"})
	sp := "/api/" + DefaultSpaceID
	tests := []struct {
		method, path string
		status       int
		// want is a field of the answer: "Id=<id>", "Self=<link>", or a
		// substring of ErrorMessage.
		want string
	}{
		// Trailing and outer slashes are ignored.
		{"GET", "/api", 200, "Application=Octopus Deploy"},
		{"GET", "/api/", 200, "Application=Octopus Deploy"},
		{"GET", "/api//spaces", 200, "Self=/api//spaces"},
		{"GET", sp + "/projects/", 200, "Self=" + sp + "/projects/"},
		{"GET", sp + "/projects/" + web + "/", 200, "Id=" + web},
		{"GET", "/api/spaces/" + other + "/", 200, "Id=" + other},

		// A method a route does not serve.
		{"HEAD", "/api", 404, ""},
		{"HEAD", sp + "/projects", 405, ""},
		{"HEAD", sp + "/machines/all", 404, ""},
		{"PATCH", "/api/spaces", 405, msgMethod},
		{"POST", "/api/spaces", 405, msgMethod},
		{"DELETE", "/api/spaces/" + other, 405, msgMethod},
		{"PUT", "/api/" + other, 404, msgNotFound},
		{"POST", sp + "/projects", 404, msgNotFound},
		{"DELETE", sp + "/projects/" + web, 404, msgNotFound},
		{"PATCH", sp + "/projects/" + web, 405, msgMethod},
		{"PUT", sp + "/deploymentprocesses/deploymentprocess-" + web, 400, "No request body"},
		{"PATCH", sp + "/deploymentprocesses/deploymentprocess-" + web, 405, msgMethod},
		{"POST", sp + "/deploymentprocesses/deploymentprocess-" + web, 405, msgMethod},
		{"PATCH", sp + "/deploymentprocesses/deploymentprocess-Projects-99", 404, msgNotFound},
		{"DELETE", sp + "/actiontemplates", 404, msgNotFound},
		{"PUT", sp + "/actiontemplates", 404, msgNotFound},
		{"PATCH", sp + "/actiontemplates", 404, msgNotFound},
		{"POST", sp + "/actiontemplates/" + tmpl, 404, msgNotFound},
		{"PATCH", sp + "/actiontemplates/" + tmpl, 404, msgNotFound},
		{"POST", sp + "/actiontemplates/" + tmpl + "/usage", 404, msgNotFound},
		{"GET", sp + "/actiontemplates/" + tmpl + "/actionsUpdate", 404, msgNotFound},
		{"POST", sp + "/variables/variableset-" + web, 404, msgNotFound},
		{"PATCH", sp + "/variables/variableset-" + web, 405, msgMethod},
		{"PATCH", sp + "/variables/variableset-Projects-99", 404, msgNotFound},
		{"PUT", sp + "/machines/all", 404, msgNotFound},
		{"GET", sp + "/packages/raw", 404, msgNotFound},
		{"PATCH", sp + "/packages/raw", 405, msgMethod},
		{"DELETE", sp + "/projects/" + cac + "/variables", 405, msgMethod},
		{"POST", sp + "/projects/" + cac + "/main/variables", 405, msgMethod},

		// An unknown space is a 404 whatever the method or path below it.
		{"GET", "/api/Spaces-9", 404, msgNotFound},
		{"GET", "/api/Spaces-9/projects", 404, msgNotFound},
		{"PATCH", "/api/Spaces-9/projects", 404, msgNotFound},
		{"PUT", "/api/Spaces-9/variables/variableset-" + web, 404, msgNotFound},
		{"GET", "/api/spaces/Spaces-9", 404, msgNotFound},
		{"GET", "/api/" + other + "/projects/" + web, 404, msgNotFound},
		{"GET", "/api/" + other + "/projects/" + cac + "/variables", 404, msgNotFound},
		{"GET", "/api/" + other + "/projects/" + cac + "/main/variables", 404, msgNotFound},

		// Ids and kinds are case-sensitive; a project is found by its slug too.
		{"GET", "/api/spaces-1", 404, msgNotFound},
		{"GET", "/API/spaces", 404, msgNotFound},
		{"GET", sp + "/Projects", 404, msgNotFound},
		{"GET", sp + "/projects/" + strings.ToLower(web), 404, msgNotFound},
		{"GET", sp + "/projects/web", 200, "Id=" + web},
		{"GET", sp + "/projects/Web", 404, msgNotFound},
		{"GET", sp + "/actiontemplates/" + tmpl + "/Usage", 404, msgNotFound},
		{"GET", sp + "/environments/environments-1", 404, msgNotFound},

		// Paths the server does not have.
		{"GET", "/nothing", 404, msgNotFound},
		{"GET", "/apispaces", 404, msgNotFound},
		{"GET", "/api/spaces/all/x", 404, msgNotFound},
		{"GET", sp + "/environments/all/x", 404, msgNotFound},
		{"GET", sp + "/actiontemplates/all/usage", 404, msgNotFound},
		{"GET", sp + "/environments/Environments-1/x", 404, msgNotFound},
		{"GET", sp + "/projects/" + web + "/x", 404, msgNotFound},
		{"GET", sp + "/projects/" + web + "/variables", 404, msgNotFound},
		{"GET", sp + "/deploymentprocesses", 404, msgNotFound},
		{"GET", sp + "/nothing", 404, msgNotFound},
		{"PATCH", sp + "/nothing", 405, msgMethod},

		// Paths a mux would clean or redirect reach the routes as they are.
		{"GET", sp + "//projects", 404, msgNotFound},
		{"PATCH", sp + "//projects", 405, msgMethod},
		{"GET", "/api/spaces/..", 404, msgNotFound},
		{"GET", sp + "/projects/%2E%2E", 404, msgNotFound},
		{"GET", sp + "/projects/" + web + "/../" + web, 404, msgNotFound},
		{"GET", sp + "/projects/" + cac + "//variables", 404, "The branch  was not found"},

		// A Git ref is one segment: its slashes are escaped.
		{"GET", sp + "/projects/" + cac + "/refs%2Fheads%2Fmain/variables", 200, "Id=variableset-" + cac + "-git-main"},
		{"GET", sp + "/projects/" + cac + "/main/variables", 200, "Id=variableset-" + cac + "-git-main"},
		{"GET", sp + "/projects/" + cac + "/refs/heads/main/variables", 404, msgNotFound},
		{"GET", sp + "/projects/" + cac + "/refs%2Fheads%2Fnope/variables", 404, "The branch refs/heads/nope was not found"},
		{"GET", sp + "/projects/" + cac + "/variables", 200, "Id=variableset-" + cac},
	}
	for _, tt := range tests {
		status, body := call(t, s, tt.method, tt.path, true)
		if status != tt.status {
			t.Errorf("%s %s: %d %v, want %d", tt.method, tt.path, status, body, tt.status)
			continue
		}
		if tt.want == "" {
			continue
		}
		if k, v, ok := strings.Cut(tt.want, "="); ok && !strings.Contains(k, " ") {
			got := body[k]
			if links, _ := body["Links"].(map[string]any); k == "Self" {
				got = links["Self"]
			}
			if got != v {
				t.Errorf("%s %s: %s is %v, want %s", tt.method, tt.path, k, got, v)
			}
		} else if msg, _ := body["ErrorMessage"].(string); !strings.Contains(msg, tt.want) {
			t.Errorf("%s %s: ErrorMessage %q, want %q", tt.method, tt.path, msg, tt.want)
		}
	}

	// The key is checked before any routing.
	for _, p := range []string{"/api", "/nothing", sp + "/projects", "/api/Spaces-9"} {
		if status, _ := call(t, s, "GET", p, false); status != 401 {
			t.Errorf("GET %s without the key: %d, want 401", p, status)
		}
	}
	// The log keeps the path as the client sent it.
	var logged bool
	for _, r := range s.Requests() {
		logged = logged || (r.Method == "GET" && r.Path == sp+"/projects/" && r.Status == 200)
	}
	if !logged {
		t.Error("the request log lacks GET " + sp + "/projects/ 200")
	}
}

// TestRoutingQueries: skip and take page a collection (a negative skip
// counts as 0), Page.Next keeps the client's path and query, filters
// narrow it, and a query on a single resource changes nothing.
func TestRoutingQueries(t *testing.T) {
	s := New(t)
	for _, n := range []string{"Dev", "Test", "Prod"} {
		s.AddEnvironment(DefaultSpaceID, n)
	}
	web := s.AddProject(DefaultSpaceID, "Web")
	base := "/api/" + DefaultSpaceID + "/environments"
	ids := func(body map[string]any) string {
		var out []string
		for _, e := range body["Items"].([]any) {
			out = append(out, e.(map[string]any)["Id"].(string))
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		query, ids string
		perPage    float64
		next       string
	}{
		{"", "Environments-1,Environments-2,Environments-3", 30, ""},
		{"?skip=1&take=1", "Environments-2", 1, base + "?skip=2&take=1"},
		{"?take=2", "Environments-1,Environments-2", 2, base + "?skip=2&take=2"},
		{"?take=0", "Environments-1,Environments-2,Environments-3", 30, ""},
		{"?skip=-1&take=2", "Environments-1,Environments-2", 2, base + "?skip=2&take=2"},
		{"?skip=5", "", 30, ""},
		{"?skip=abc&take=x", "Environments-1,Environments-2,Environments-3", 30, ""},
		{"?name=prod", "Environments-3", 30, ""},
		{"?partialName=E", "Environments-1,Environments-2", 30, ""},
		{"?ids=Environments-3,Environments-1", "Environments-1,Environments-3", 30, ""},
		{"?ids=Environments-3&ids=Environments-2&take=1", "Environments-2", 1, base + "?ids=Environments-3&ids=Environments-2&skip=1&take=1"},
	}
	for _, tt := range tests {
		status, body := call(t, s, "GET", base+tt.query, true)
		if status != 200 {
			t.Errorf("GET %s: %d %v", tt.query, status, body)
			continue
		}
		links := body["Links"].(map[string]any)
		if got := ids(body); got != tt.ids || body["ItemsPerPage"] != tt.perPage || body["TotalResults"] == nil {
			t.Errorf("GET %s: items %s, %v per page, want %s, %v", tt.query, got, body["ItemsPerPage"], tt.ids, tt.perPage)
		}
		if next, _ := links["Page.Next"].(string); next != tt.next {
			t.Errorf("GET %s: Page.Next %q, want %q", tt.query, next, tt.next)
		}
		if links["Self"] != base {
			t.Errorf("GET %s: Self %v, want %s", tt.query, links["Self"], base)
		}
	}
	if _, body := call(t, s, "GET", base+"/?take=1", true); body["Links"].(map[string]any)["Page.Next"] != base+"/?skip=1&take=1" {
		t.Errorf("Page.Next after a trailing slash: %v", body["Links"])
	}
	if status, body := call(t, s, "GET", "/api/"+DefaultSpaceID+"/projects/"+web+"?take=1&skip=3", true); status != 200 || body["Id"] != web {
		t.Errorf("a query on one project: %d %v", status, body)
	}
}
