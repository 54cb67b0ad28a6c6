package host

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.live-colour",
		Title:   "Read the live colour on this host",
		Summary: "Reads which of two copies on this host is live, from an nginx upstream include file or from a symlink, and fails unless it is one of the colours.",
		Doc: "The `detect` step of the same-host strategy, whose `switch` input chooses how " +
			"traffic is switched: a runbook's detect names one step kind, so this one reads " +
			"either source (as host.nginx.get-upstream and host.symlink.read do). Unlike those " +
			"it fails when the live server or folder is neither colour's, because a release must " +
			"not guess which copy it may stop.",
		Rules: []steps.Rule{
			steps.RequiredWhen("switch", "nginx", "upstream_file"),
			steps.RequiredWhen("switch", "symlink", "link", "dirs"),
			steps.Between("ports", 1, 65535),
			steps.Length("ports", 2, 2),
		},
		Params: []steps.Param{
			{Name: "switch", Type: steps.String, Required: true, Enum: []string{"nginx", "symlink"},
				Doc: "Where the live colour is recorded: the nginx upstream include file or the symlink."},
			{Name: "upstream_file", Type: steps.String,
				Doc: "The nginx upstream include file (switch: nginx): bare server lines or whole upstream blocks, as host.nginx.get-upstream reads.", Examples: []any{"/etc/nginx/bluegreen/app.upstream"}},
			{Name: "upstream", Type: steps.String,
				Doc: "switch nginx: the upstream block's name, when upstream_file holds several `upstream NAME { }` blocks that name a colour's port.", Examples: []any{"app"}},
			{Name: "link", Type: steps.String,
				Doc: "The symlink the web server serves (switch: symlink).", Examples: []any{"/srv/app/current"}},
			{Name: "ports", Type: steps.Map, Items: steps.Int, Required: true,
				Doc: "Port of each colour.", Examples: []any{map[string]any{"blue": 8081, "green": 8082}}},
			{Name: "dirs", Type: steps.Map, Items: steps.String,
				Doc: "Folder of each colour (required for switch: symlink).", Examples: []any{map[string]any{"blue": "/srv/app/blue", "green": "/srv/app/green"}}},
		},
		Outputs: []steps.Output{
			{Name: "colour", Type: steps.String, Doc: "The live colour."},
			{Name: "port", Type: steps.Int, Doc: "The live colour's port."},
			{Name: "dir", Type: steps.String, Doc: "The live colour's folder (empty when dirs is not given)."},
		},
		Traffic: "colour",
		New:     func() steps.Step { return steps.StepFunc(liveColourStep) },
	})
}

func liveColourStep(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	ports, dirs := p.Map("ports"), p.StringMap("dirs")
	var colour, found string
	switch p.String("switch") {
	case "nginx":
		file := p.String("upstream_file")
		if file == "" {
			return nil, fmt.Errorf("param \"upstream_file\" is required with switch nginx")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read upstream file: %w", err)
		}
		f, err := parseUpstreamFile(file, string(b), p.String("upstream"), portsOf(ports))
		if err != nil {
			return nil, err
		}
		servers, _ := f.servers()
		live, ok := liveServer(servers)
		if !ok {
			return nil, fmt.Errorf("%s has no server that takes traffic (every server is missing, backup or down)", f.where())
		}
		colour, found = colourOfPort(ports, live.Port), fmt.Sprintf("%s names port %d (server %s)", f.where(), live.Port, live.Address)
	case "symlink":
		link := p.String("link")
		if link == "" || len(dirs) == 0 {
			return nil, fmt.Errorf("params \"link\" and \"dirs\" are required with switch symlink")
		}
		_, resolved, err := readSymlink(link)
		if err != nil {
			return nil, err
		}
		colour, found = colourOfDir(dirs, resolved), fmt.Sprintf("%s points at %s", link, resolved)
	}
	if colour == "" {
		var known []string
		for _, name := range sortedKeys(ports) {
			known = append(known, fmt.Sprintf("%s (port %v, folder %s)", name, ports[name], dirs[name]))
		}
		return nil, fmt.Errorf("%s, which is none of %s", found, strings.Join(known, ", "))
	}
	port, _ := steps.Coerce(steps.Int, "", ports[colour])
	if port == nil {
		port = 0
	}
	return steps.Outputs{"colour": colour, "port": port, "dir": dirs[colour]}, nil
}
