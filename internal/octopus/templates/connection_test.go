package templates

import (
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestConnectionParamsLeftOutByFlag: the generator learns which params are
// connection params from the spec (Param.Connection), not from their
// names: a param named like a connection param but not marked stays in the
// template, and a marked one is left out whatever its name.
func TestConnectionParamsLeftOutByFlag(t *testing.T) {
	r := steps.NewRegistry()
	r.Register(steps.Spec{
		Kind: "octopus.fixture.connect", Title: "Connect", Summary: "Connects.", Credentials: steps.OctopusCredentials, New: noop,
		Params: []steps.Param{
			{Name: "server", Type: steps.String, Doc: "A server the step acts on, not the one it connects to."},
			{Name: "endpoint", Type: steps.String, Connection: true, Doc: "Where the step connects."},
		},
	})
	var tpl Template
	for _, g := range Generate(r) {
		if g.Key == "octopus.fixture.connect" {
			tpl = g.Template
		}
	}
	names := map[string]bool{}
	for _, p := range tpl.Parameters {
		names[p.Name] = true
	}
	if !names[paramPrefix+"server"] {
		t.Errorf("the unmarked param server was left out: %v", names)
	}
	if names[paramPrefix+"endpoint"] {
		t.Errorf("the connection param endpoint is in the template: %v", names)
	}
	body := tpl.Properties["Octopus.Action.Script.ScriptBody"]
	if !strings.Contains(body, `param server "BlueGreen.server"`) || strings.Contains(body, "endpoint") {
		t.Errorf("script passes the wrong params:\n%s", body)
	}
}
