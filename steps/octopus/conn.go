// Package octopus registers the steps that make Octopus Deploy follow a
// swap: project variables (octopus.variables.get, octopus.variables.set),
// deployment targets (octopus.targets.retag, octopus.targets.move-environment,
// octopus.targets.health) and output variables (octopus.output).
//
// The steps reach the server through package octopus (go-octopusdeploy
// v2.115.0). The connection comes from OCTOPUS_URL, OCTOPUS_API_KEY and
// OCTOPUS_SPACE, which the generated Octopus templates set from the
// running deployment, or from the optional params server, api_key and
// space (connectionParams).
package octopus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/environments"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/machines"
	"github.com/OctopusDeploy/go-octopusdeploy/v2/pkg/projects"

	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// clients caches one connection per server, key and space for the life of
// the process, shared by the preflight probes and the steps: a gate polls
// a step many times, and connecting costs four round trips (the API root
// twice, the spaces, the space). Sharing loses nothing a fresh connection
// would catch: a connection that failed is not kept (the next caller
// connects again), and a server that starts refusing the key, or a space
// that goes away, answers the shared connection's calls with that error
// as it would a new one's.
var clients sync.Map // connKey → *clientEntry

// clientEntry is one cached connection. Callers that arrive together
// (preflight's parallel probes) wait for one connect: lock is a one-slot
// semaphore rather than a mutex so that a caller stops waiting when its
// own context ends (a gate's deadline, a step's timeout) instead of when
// another caller's connect to a slow server does.
type clientEntry struct {
	lock chan struct{}
	c    *octopus.Client
}

// connect returns the cached client for the step's connection, connecting
// on first use.
func connect(ctx context.Context, p steps.Params) (*octopus.Client, error) {
	key, _ := connKey(p)
	v, ok := clients.Load(key)
	if !ok {
		v, _ = clients.LoadOrStore(key, &clientEntry{lock: make(chan struct{}, 1)})
	}
	e := v.(*clientEntry)
	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.lock }()
	// The cached client is shared: each call binds it to its own context,
	// so the step's timeout or gate deadline bounds every request.
	if e.c != nil {
		return e.c.WithContext(ctx), nil
	}
	c, err := octopus.Connect(ctx, octopus.ConfigFromEnv().Override(p.String("server"), p.String("api_key"), p.String("space")))
	if err != nil {
		return nil, err
	}
	e.c = c
	return c.WithContext(ctx), nil
}

// connectionParams are the optional params through which an Octopus step
// may override the connection it otherwise takes from OCTOPUS_URL,
// OCTOPUS_API_KEY and OCTOPUS_SPACE. They are marked Connection, so the
// template generator leaves them out of Octopus templates, whose script
// sets those three variables itself from the server's own variables and
// one Sensitive API-key parameter.
var connectionParams = []steps.Param{
	{Name: "server", Type: steps.String, Connection: true, Doc: "Octopus server URL, e.g. https://octopus.example.com. Defaults to OCTOPUS_URL."},
	{Name: "api_key", Type: steps.String, Sensitive: true, Connection: true, Doc: "Octopus API key (API-...). Defaults to OCTOPUS_API_KEY."},
	{Name: "space", Type: steps.String, Connection: true, Doc: "Space name or id. Defaults to OCTOPUS_SPACE, then the server's default space."},
}

// ConnectionParams returns a copy of the connection params every step of
// this package declares, so that tests of the template generator and the
// publisher build their Octopus-shaped fixture kinds from the real
// declaration instead of a copy of it.
func ConnectionParams() []steps.Param { return slices.Clone(connectionParams) }

// withConnection appends the connection params to a step's own params.
func withConnection(ps ...steps.Param) []steps.Param {
	return append(ps, connectionParams...)
}

// withConnectionOf adds to an undo's params the connection params the step
// was given, so that the undo reaches the same server and space. The API
// key is left out on purpose: the journal must never hold it, so the undo
// takes it from OCTOPUS_API_KEY.
func withConnectionOf(p steps.Params, undo map[string]any) map[string]any {
	for _, k := range []string{"server", "space"} {
		if p.Has(k) {
			undo[k] = p.String(k)
		}
	}
	return undo
}

// project finds a project by id, slug or name. The connection remembers
// what it found (internal/octopus/lookups.go): preflight's check and the
// variable steps then make one lookup, not one each.
func project(c *octopus.Client, ref string) (*projects.Project, error) {
	v, err := c.Remember("project|"+ref, func() (any, error) {
		p, err := projects.GetByIdentifier(c.API, c.SpaceID, ref)
		if err != nil || p == nil {
			return nil, fmt.Errorf("find project %q in space %s: not found (%v)", ref, c.SpaceName, err)
		}
		return p, nil
	})
	if err != nil {
		return nil, err
	}
	p := *v.(*projects.Project) // a copy: callers must not change the remembered one
	return &p, nil
}

// environmentID finds an environment by name (or id) and returns its id.
// The connection remembers the list of environments; a name not in the
// remembered list is looked up once more in a fresh one (it may have been
// created since), so only a name that the server does not have now fails.
func environmentID(c *octopus.Client, ref string) (string, error) {
	for again := false; ; again = true {
		fresh := again // a second look used a list fetched after the miss, by us or another caller
		v, err := c.Remember("environments", func() (any, error) {
			fresh = true
			all, err := environments.GetAll(c.API, c.SpaceID)
			if err != nil {
				return nil, fmt.Errorf("list environments in space %s: %w", c.SpaceName, err)
			}
			return all, nil
		})
		if err != nil {
			return "", err
		}
		var names []string
		for _, e := range v.([]*environments.Environment) {
			if e.ID == ref || strings.EqualFold(e.Name, ref) {
				return e.ID, nil
			}
			names = append(names, e.Name)
		}
		if fresh {
			return "", fmt.Errorf("find environment %q in space %s: not found (environments: %s)", ref, c.SpaceName, strings.Join(names, ", "))
		}
		c.Forget("environments")
	}
}

// selectorParams choose deployment targets; every given selector must match.
var selectorParams = []steps.Param{
	{Name: "role", Type: steps.String, Doc: "Select targets that have this role (target tag).", Examples: []any{"web-blue"}},
	{Name: "environment", Type: steps.String, Doc: "Select targets in this environment (name or id)."},
	{Name: "targets", Type: steps.List, Items: steps.String, Doc: "Select targets by name or id."},
}

// selectTargets returns the targets that match every selector given.
// Filters go to the server (roles, environmentIds) and are applied again
// here, so a server that ignores a filter cannot widen the selection.
func selectTargets(c *octopus.Client, p steps.Params) ([]*machines.DeploymentTarget, error) {
	role, env, names := p.String("role"), p.String("environment"), p.Strings("targets")
	q := machines.MachinesQuery{Take: 200}
	envID := ""
	if env != "" {
		id, err := environmentID(c, env)
		if err != nil {
			return nil, err
		}
		envID = id
		q.EnvironmentIDs = []string{id}
	}
	if role != "" {
		q.Roles = []string{role}
	}
	var out []*machines.DeploymentTarget
	for {
		page, err := machines.Get(c.API, c.SpaceID, q)
		if err != nil {
			return nil, fmt.Errorf("list deployment targets in space %s: %w", c.SpaceName, err)
		}
		for _, m := range page.Items {
			if role != "" && !slices.Contains(m.Roles, role) {
				continue
			}
			if envID != "" && !slices.Contains(m.EnvironmentIDs, envID) {
				continue
			}
			if len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return n == m.ID || strings.EqualFold(n, m.Name) }) {
				continue
			}
			out = append(out, m)
		}
		q.Skip += len(page.Items)
		if len(page.Items) == 0 || q.Skip >= page.TotalResults {
			break
		}
	}
	slices.SortFunc(out, func(a, b *machines.DeploymentTarget) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func hasSelector(p steps.Params) bool {
	return p.String("role") != "" || p.String("environment") != "" || len(p.Strings("targets")) > 0
}
