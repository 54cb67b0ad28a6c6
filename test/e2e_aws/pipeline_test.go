package e2e_aws

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/internal/engine"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus"
	"github.com/bluegreen-deploy/bluegreen/internal/octopus/octopustest"
	"github.com/bluegreen-deploy/bluegreen/steps"
)

// The Octopus pipeline of issue 16 on moto and octopustest: prepare, a
// stand-in for Octopus's "Deploy a Package", promote and cleanup as the
// deployment process runs them, in separate invocations.

// pipeline is a world plus an Octopus server whose targets follow the
// Auto Scaling groups the way Tentacles registered from user data do.
type pipeline struct {
	*world
	srv         *octopustest.Server
	space, proj string
	prod        string

	mu         sync.Mutex
	registered map[string]string // instance id → target id
	// skip lists instances whose Tentacle never registers.
	skip map[string]bool
	stop chan struct{}
	done chan struct{}
	// recover is the phases' --recover.
	recover string
}

func newPipeline(t *testing.T, book string, o awstest.Options) *pipeline {
	t.Helper()
	w := newWorld(t, book, o)
	srv := octopustest.New(t)
	t.Setenv(octopus.EnvURL, srv.URL)
	t.Setenv(octopus.EnvAPIKey, srv.APIKey)
	t.Setenv(octopus.EnvSpace, "")
	p := &pipeline{world: w, srv: srv, space: octopustest.DefaultSpaceID, registered: map[string]string{}, skip: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{})}
	p.proj = srv.AddProject(p.space, "Web")
	p.prod = srv.AddEnvironment(p.space, "Production")
	srv.SetVariables(p.space, p.proj, []octopustest.Variable{{Name: "BlueGreen.Live", Value: "blue", Environments: []string{p.prod}}})
	// The live colour's instances are registered already, tagged live.
	p.register(context.Background(), "blue", "app-live")
	go p.tentacles()
	t.Cleanup(func() { close(p.stop); <-p.done })
	return p
}

// register adds a target for each instance of a colour's group that has
// none yet, named after the instance as a Tentacle's registration in user
// data names it, with the colour's role (and extra roles).
func (p *pipeline) register(ctx context.Context, colour string, extra ...string) {
	g, err := p.topo.Group(ctx, colour)
	if err != nil {
		p.t.Error(err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range g.Instances {
		if _, ok := p.registered[id]; ok || p.skip[id] {
			continue
		}
		p.registered[id] = p.srv.AddMachine(p.space, octopustest.Machine{Name: "app-" + colour + "-" + id,
			Roles: append([]string{"app-" + colour}, extra...), EnvironmentIDs: []string{p.prod}})
	}
}

// tentacles registers the green group's new instances as they launch,
// until the test ends.
func (p *pipeline) tentacles() {
	defer close(p.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.register(context.Background(), "green")
		}
	}
}

// phase runs one phase of the world's runbook with Octopus inputs.
func (p *pipeline) phase(name string, over map[string]string) (*engine.Result, error) {
	p.t.Helper()
	rb, err := engine.Load(runbookPath(p.book), steps.Default)
	if err != nil {
		p.t.Fatal(err)
	}
	in := map[string]string{"octopus_project": "Web", "octopus_environment": "Production", "target_role": "app",
		"wait_for_targets": "true", "registration_timeout": "5s", "weights": "[50, 100]"}
	for k, v := range over {
		in[k] = v
	}
	x := &engine.Executor{Registry: steps.Default, Store: p.store, Sinks: []engine.Sink{p.sink}, Phase: name, Recover: p.recover}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return x.Run(ctx, rb, p.inputs(in))
}

func (p *pipeline) mustPhase(name string, over map[string]string) {
	p.t.Helper()
	if _, err := p.phase(name, over); err != nil {
		p.dump()
		p.t.Fatalf("phase %s: %v", name, err)
	}
}

// withRole returns the names of the targets that have a role, sorted.
func (p *pipeline) withRole(role string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, id := range p.registered {
		m := p.srv.Machine(p.space, id)
		if slices.Contains(m.Roles, role) {
			out = append(out, m.Name)
		}
	}
	slices.Sort(out)
	return out
}

func (p *pipeline) liveVariable() string {
	for _, v := range p.srv.Variables(p.space, p.proj) {
		if v.Name == "BlueGreen.Live" {
			return v.Value
		}
	}
	return ""
}

func names(colour string, ids []string) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, "app-"+colour+"-"+id)
	}
	slices.Sort(out)
	return out
}

// TestPipelinePhases: prepare waits for the idle instances' Tentacles and
// tags exactly them idle; the deploy reaches them; promote shifts traffic
// and swaps the tags; cleanup scales the old group to zero.
func TestPipelinePhases(t *testing.T) {
	for _, c := range []struct {
		book string
		opts awstest.Options
	}{{"alb-weighted.yaml", awstest.Options{SharedALB: true}}, {"weighted-dns.yaml", awstest.Options{}}} {
		t.Run(c.book, func(t *testing.T) {
			p := newPipeline(t, c.book, c.opts)
			ctx := context.Background()
			// A target left by an instance of an earlier release: it has
			// the colour's role but no instance of the group now.
			p.srv.AddMachine(p.space, octopustest.Machine{Name: "app-green-i-0000000000000dead", Roles: []string{"app-green"}, EnvironmentIDs: []string{p.prod}, HealthStatus: "Unavailable"})

			p.mustPhase("prepare", nil)
			green, err := p.topo.Group(ctx, "green")
			if err != nil {
				t.Fatal(err)
			}
			if len(green.Instances) != 2 {
				t.Fatalf("green instances %v after prepare, want 2", green.Instances)
			}
			// Deploy a Package to role app-idle reaches every new instance
			// and nothing else: not the stale target, not blue.
			idle := p.withRole("app-idle")
			if !slices.Equal(idle, names("green", green.Instances)) {
				t.Fatalf("app-idle targets %v, want the new instances %v", idle, names("green", green.Instances))
			}
			p.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 2})
			fin := events[*engine.StepFinished](p.world)
			if last := fin[len(fin)-1]; last.ID != "tag_idle" {
				t.Errorf("prepare ended with %s, want tag_idle", last.ID)
			}
			deployed := map[string]bool{}
			for _, n := range idle {
				deployed[n] = true
			}

			p.mustPhase("promote", nil)
			p.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 2, "green": 2})
			if got := p.withRole("app-live"); len(got) != 2 || !deployed[got[0]] || !deployed[got[1]] {
				t.Errorf("app-live %v after promote, want the deployed instances", got)
			}
			if got, blue := p.withRole("app-idle"), p.withRole("app-blue"); !slices.Equal(got, blue) {
				t.Errorf("app-idle %v after promote, want blue's %v", got, blue)
			}
			if p.liveVariable() != "green" {
				t.Errorf("BlueGreen.Live = %q", p.liveVariable())
			}

			p.mustPhase("cleanup", nil)
			p.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
			if _, err := p.phase("cleanup", nil); err == nil {
				t.Error("a phase ran twice in one release")
			}
		})
	}
}

// TestPipelinePromoteFailureRollsBackPrepare: the idle target group never
// becomes healthy, so promote fails; the rollback undoes prepare too: the
// new instances lose app-idle and the idle group is scaled back.
func TestPipelinePromoteFailureRollsBackPrepare(t *testing.T) {
	p := newPipeline(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	p.mustPhase("prepare", nil)
	if got := p.withRole("app-idle"); len(got) != 2 {
		t.Fatalf("app-idle after prepare: %v", got)
	}
	if _, err := p.topo.AddStoppedTarget(context.Background(), "green"); err != nil {
		t.Fatal(err)
	}
	_, err := p.phase("promote", map[string]string{"health_timeout": "300ms"})
	var rf *engine.RunFailedError
	if !errors.As(err, &rf) || !rf.RolledBack || !strings.Contains(err.Error(), "idle_healthy") {
		p.dump()
		t.Fatalf("promote: %v, want a rolled-back failure of idle_healthy", err)
	}
	p.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
	if got := p.withRole("app-idle"); len(got) != 0 {
		t.Errorf("app-idle after the rollback: %v, want none", got)
	}
	if p.liveVariable() != "blue" {
		t.Errorf("BlueGreen.Live = %q after the rollback", p.liveVariable())
	}
}

// TestPipelineRegistrationTimeoutNamesInstances: one new instance's
// Tentacle never registers; prepare times out naming it and rolls back.
func TestPipelineRegistrationTimeoutNamesInstances(t *testing.T) {
	p := newPipeline(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	var once sync.Once
	var lost string
	p.onEvent = func(e engine.Event) {
		// As soon as the idle group is scaled, the first instance it
		// launched is kept from registering.
		if f, ok := e.(*engine.StepFinished); ok && f.ID == "idle_instances" {
			once.Do(func() {
				ids, _ := f.Outputs["instances"].([]any)
				if len(ids) > 0 {
					p.mu.Lock()
					lost = ids[0].(string)
					p.skip[lost] = true
					if tid, ok := p.registered[lost]; ok {
						// Registered already: make it drop off instead.
						p.srv.SetHealth(p.space, tid, "Unavailable")
					}
					p.mu.Unlock()
				}
			})
		}
	}
	_, err := p.phase("prepare", map[string]string{"registration_timeout": "500ms"})
	if err == nil || lost == "" || !strings.Contains(err.Error(), lost) || !strings.Contains(err.Error(), "waiting_for=") {
		p.dump()
		t.Fatalf("prepare: %v, want a timeout naming %s", err, lost)
	}
	p.expect(map[string]int{"blue": 100, "green": 0}, map[string]int{"blue": 2, "green": 0})
}

// TestPipelineAbandonedDeploymentIsRolledBack: the deployment stops after
// prepare (the package deploy failed, or the manual intervention was
// rejected). The next deployment's prepare refuses by default, and with
// --recover rollback (the Run runbook template's default) undoes the
// abandoned release first: the idle targets lose app-idle and the group
// is scaled back before it is scaled up again.
func TestPipelineAbandonedDeploymentIsRolledBack(t *testing.T) {
	p := newPipeline(t, "alb-weighted.yaml", awstest.Options{SharedALB: true})
	p.mustPhase("prepare", nil)
	first := p.withRole("app-idle")
	if len(first) != 2 {
		t.Fatalf("app-idle after prepare: %v", first)
	}
	if _, err := p.phase("prepare", nil); err == nil || !strings.Contains(err.Error(), "already ran") {
		t.Fatalf("prepare again without --recover: %v, want a refusal", err)
	}

	p.recover = engine.RecoverRollback
	p.mustPhase("prepare", nil)
	var undone []string
	for _, u := range events[*engine.UndoApplied](p.world) {
		undone = append(undone, u.Undo.Kind)
	}
	if !slices.Contains(undone, "octopus.targets.retag") || !slices.Contains(undone, "aws.asg.scale") {
		t.Errorf("the abandoned release was not undone: undos %v", undone)
	}
	// The release goes on from the new prepare.
	p.mustPhase("promote", nil)
	p.mustPhase("cleanup", nil)
	p.expect(map[string]int{"blue": 0, "green": 100}, map[string]int{"blue": 0, "green": 2})
}
