package host

import (
	"context"
	"fmt"
	"os"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.nginx.get-upstream",
		Title:   "Read the nginx upstream",
		Summary: "Reads which server an nginx upstream include file sends traffic to and, given the colours' ports, which colour that is.",
		Doc: upstreamLayoutsDoc + " The live server is the first one not marked `backup` or " +
			"`down`. Use the step as `detect` in a same-host runbook: the colour whose port " +
			"the file names is live. It reads the file, not nginx's memory: " +
			"host.nginx.set-upstream keeps the two equal by restoring the file when a test or " +
			"reload fails.",
		Rules: []steps.Rule{
			steps.Length("file", 1, 0),
			steps.Between("colours", 1, 65535),
		},
		Params: []steps.Param{
			{Name: "file", Type: steps.String, Required: true,
				Doc: "The upstream include file.", Examples: []any{"/etc/nginx/bluegreen/app.upstream"}},
			upstreamParam,
			{Name: "colours", Type: steps.Map, Items: steps.Int,
				Doc:      "Port of each colour; the output colour is the one whose port is live.",
				Examples: []any{map[string]any{"blue": 8081, "green": 8082}}},
		},
		Outputs: []steps.Output{
			{Name: "address", Type: steps.String, Doc: "The live server's address as written, e.g. 127.0.0.1:8081."},
			{Name: "host", Type: steps.String, Doc: "The live server's host (or socket path)."},
			{Name: "port", Type: steps.Int, Doc: "The live server's port (0 for a unix socket)."},
			{Name: "servers", Type: steps.List, Doc: "Every server address in the file, in order."},
			{Name: "colour", Type: steps.String, Doc: "The colour whose port is live; empty when none matches or colours is not given."},
		},
		Traffic: "port",
		New:     func() steps.Step { return steps.StepFunc(getUpstreamStep) },
	})
}

func getUpstreamStep(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	file := call.Params.String("file")
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read upstream file: %w", err)
	}
	colours := call.Params.Map("colours")
	f, err := parseUpstreamFile(file, string(b), call.Params.String("upstream"), portsOf(colours))
	if err != nil {
		return nil, err
	}
	servers, _ := f.servers()
	live, ok := liveServer(servers)
	if !ok {
		return nil, fmt.Errorf("%s has no server that takes traffic (every server is missing, backup or down)", f.where())
	}
	addrs := make([]any, len(servers))
	for i, s := range servers {
		addrs[i] = s.Address
	}
	return steps.Outputs{
		"address": live.Address,
		"host":    live.Host,
		"port":    live.Port,
		"servers": addrs,
		"colour":  colourOfPort(colours, live.Port),
	}, nil
}
