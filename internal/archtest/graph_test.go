package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// module is the module's import path.
const module = "github.com/bluegreen-deploy/bluegreen"

// graph maps each package to the packages it imports, without test
// imports: what a binary links.
type graph map[string][]string

// loadGraph runs `go list -deps -json` over the whole module, so the
// graph holds every package the module's packages link, standard library
// and third-party ones included.
func loadGraph(t *testing.T) graph {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		gobin = p
	}
	cmd := exec.Command(gobin, "list", "-deps", "-json=ImportPath,Imports", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		g[p.ImportPath] = p.Imports
	}
	if len(g[module+"/internal/engine"]) == 0 {
		t.Fatalf("go list listed no imports for %s/internal/engine: the graph is not the module's", module)
	}
	return g
}

// pathTo returns an import chain from root to the first package (breadth
// first, so a shortest chain) for which match is true, or nil when root
// links none.
func (g graph) pathTo(root string, match func(string) bool) []string {
	prev := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != root && match(p) {
			var chain []string
			for q := p; q != ""; q = prev[q] {
				chain = append([]string{q}, chain...)
			}
			return chain
		}
		for _, imp := range g[p] {
			if _, seen := prev[imp]; !seen {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return nil
}
