package aws

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

func TestASGDescribeCountsStates(t *testing.T) {
	g := newGroup("web", 4, 1, 6, 2)
	g.Instances = append(g.Instances,
		asgtypes.Instance{InstanceId: awssdk.String("i-p"), LifecycleState: asgtypes.LifecycleStatePending, HealthStatus: awssdk.String("Healthy")},
		asgtypes.Instance{InstanceId: awssdk.String("i-u"), LifecycleState: asgtypes.LifecycleStateInService, HealthStatus: awssdk.String("Unhealthy")},
	)
	out, _, err := runStep(t, "aws.asg.describe", &asgDescribe{api: &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{"web": g}}}, map[string]any{"group": "web"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"desired": 4, "min": 1, "max": 6, "total": 4, "in_service": 3, "pending": 1, "healthy": 2, "unhealthy": 1,
		"states":          map[string]any{"InService": 3, "Pending": 1},
		"launch_template": "lt-1", "launch_template_version": "$Latest",
	}
	for k, v := range want {
		if !reflect.DeepEqual(out[k], v) {
			t.Errorf("%s = %#v, want %#v", k, out[k], v)
		}
	}
}

func TestASGDescribeErrorsNameGroupAndCall(t *testing.T) {
	cases := []struct {
		name string
		api  *fakeASG
		want []string
	}{
		{"missing group", &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{}}, []string{"DescribeAutoScalingGroups", `"nope"`, "no such"}},
		{"api error", &fakeASG{err: apiErr("Throttling", "Rate exceeded")}, []string{"autoscaling:DescribeAutoScalingGroups", `"nope"`, "Throttling: Rate exceeded"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := runStep(t, "aws.asg.describe", &asgDescribe{api: c.api}, map[string]any{"group": "nope"})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestASGScale(t *testing.T) {
	cases := []struct {
		name    string
		start   [3]int // desired, min, max
		params  map[string]any
		want    [3]int
		changed bool
		wantErr string
	}{
		{"scale out within bounds", [3]int{0, 0, 4}, map[string]any{"desired": 2}, [3]int{2, 0, 4}, true, ""},
		{"scale to zero lowers min", [3]int{3, 2, 4}, map[string]any{"desired": 0}, [3]int{0, 0, 4}, true, ""},
		{"above max raises max", [3]int{2, 1, 2}, map[string]any{"desired": 5}, [3]int{5, 1, 5}, true, ""},
		{"explicit bounds", [3]int{2, 1, 4}, map[string]any{"desired": 3, "min": 3, "max": 3}, [3]int{3, 3, 3}, true, ""},
		{"already there", [3]int{2, 0, 4}, map[string]any{"desired": 2}, [3]int{2, 0, 4}, false, ""},
		{"min above desired", [3]int{2, 0, 4}, map[string]any{"desired": 1, "min": 2}, [3]int{2, 0, 4}, false, `param "min": 2 is above "desired" (1)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			api := &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{"web": newGroup("web", c.start[0], c.start[1], c.start[2], c.start[0])}}
			params := map[string]any{"group": "web"}
			for k, v := range c.params {
				params[k] = v
			}
			out, undos, err := runStep(t, "aws.asg.scale", &asgScale{api: api}, params)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				if len(api.updates) != 0 || len(undos) != 0 {
					t.Fatal("changed the group or journaled an undo despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := api.groups["web"]
			got := [3]int{int(*g.DesiredCapacity), int(*g.MinSize), int(*g.MaxSize)}
			if got != c.want {
				t.Errorf("group sizes %v, want %v", got, c.want)
			}
			if out["changed"] != c.changed {
				t.Errorf("changed = %v, want %v", out["changed"], c.changed)
			}
			if !c.changed {
				if len(undos) != 0 || len(api.updates) != 0 {
					t.Errorf("no change expected, got %d undos and %d updates", len(undos), len(api.updates))
				}
				return
			}
			if len(undos) != 1 {
				t.Fatalf("%d undos, want 1", len(undos))
			}
			u := undos[0]
			wantUndo := map[string]any{"group": "web", "desired": c.start[0], "min": c.start[1], "max": c.start[2]}
			if c.start[0] > c.want[0] {
				// Undoing a scale-in restores capacity: it waits for it.
				wantUndo["wait"], wantUndo["wait_timeout"], wantUndo["poll"] = true, "10m0s", "10s"
			}
			if u.RestoresCapacity != (c.start[0] > c.want[0]) {
				t.Errorf("undo RestoresCapacity = %v", u.RestoresCapacity)
			}
			if u.Kind != "aws.asg.scale" || !reflect.DeepEqual(u.Params, wantUndo) {
				t.Fatalf("undo %+v, want aws.asg.scale %v", u, wantUndo)
			}
			// Running the undo restores the sizes, and running it twice is harmless.
			for i := 0; i < 2; i++ {
				if _, _, err := runStep(t, u.Kind, &asgScale{api: api}, u.Params); err != nil {
					t.Fatal(err)
				}
			}
			got = [3]int{int(*g.DesiredCapacity), int(*g.MinSize), int(*g.MaxSize)}
			if got != c.start {
				t.Errorf("after undo %v, want %v", got, c.start)
			}
		})
	}
}

func TestASGScaleJournalFailureChangesNothing(t *testing.T) {
	api := &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{"web": newGroup("web", 0, 0, 4, 0)}}
	full := func(steps.Undo) error { return errors.New("journal disk full") }
	r := steptest.Run(context.Background(), t, "aws.asg.scale", map[string]any{"group": "web", "desired": 3}, steptest.Options{Step: &asgScale{api: api}, Journal: full})
	if err := r.Err; err == nil || !strings.Contains(err.Error(), "journal disk full") {
		t.Fatalf("error %v, want the journal's", err)
	}
	if len(api.updates) != 0 {
		t.Fatal("group updated although the undo was not journaled")
	}
}

func TestASGScaleWaitsForHealthyInstances(t *testing.T) {
	g := newGroup("web", 0, 0, 4, 0)
	describes := 0
	api := &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{"web": g}, onDescribe: func(g *asgtypes.AutoScalingGroup) {
		// One more instance comes up InService and Healthy per poll.
		describes++
		if describes > 1 && len(g.Instances) < int(*g.DesiredCapacity) {
			g.Instances = append(g.Instances, newGroup("x", 1, 0, 1, 1).Instances[0])
		}
	}}
	out, _, err := runStep(t, "aws.asg.scale", &asgScale{api: api}, map[string]any{"group": "web", "desired": 2, "wait": true, "poll": "1ms"})
	if err != nil {
		t.Fatal(err)
	}
	if out["healthy"] != 2 {
		t.Errorf("healthy = %v, want 2", out["healthy"])
	}
}

func TestASGScaleWaitTimesOut(t *testing.T) {
	api := &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{"web": newGroup("web", 0, 0, 4, 0)}}
	_, undos, err := runStep(t, "aws.asg.scale", &asgScale{api: api}, map[string]any{"group": "web", "desired": 2, "wait": true, "poll": "1ms", "wait_timeout": "20ms"})
	if err == nil || !strings.Contains(err.Error(), `group "web": 0 of 2 instances InService and Healthy`) {
		t.Fatalf("error %v", err)
	}
	if len(undos) != 1 {
		t.Fatal("the scale happened, so its undo must be journaled even though the wait failed")
	}
}

func TestASGSetImage(t *testing.T) {
	cases := []struct {
		name        string
		held        string
		params      map[string]any
		wantVersion string
		wantUndo    map[string]any
		created     int
	}{
		{"new ami from $Latest", "$Latest", map[string]any{"ami": "ami-new"}, "3", map[string]any{"group": "web", "version": "2"}, 1},
		{"new ami from a number", "1", map[string]any{"ami": "ami-new"}, "3", map[string]any{"group": "web", "version": "1"}, 1},
		{"same ami", "$Latest", map[string]any{"ami": "ami-two"}, "2", nil, 0},
		{"existing version (undo)", "3", map[string]any{"version": "1"}, "1", map[string]any{"group": "web", "version": "3"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := newGroup("web", 2, 0, 4, 2)
			g.LaunchTemplate.Version = awssdk.String(c.held)
			api := &fakeASG{groups: map[string]*asgtypes.AutoScalingGroup{"web": g}}
			ec := &fakeEC2{images: []string{"ami-one", "ami-two"}}
			if c.held == "3" {
				ec.images = append(ec.images, "ami-three")
			}
			params := map[string]any{"group": "web"}
			for k, v := range c.params {
				params[k] = v
			}
			out, undos, err := runStep(t, "aws.asg.set-image", &asgSetImage{asg: api, ec2: ec}, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(ec.created) != c.created {
				t.Fatalf("%d versions created, want %d", len(ec.created), c.created)
			}
			if c.created > 0 && awssdk.ToString(ec.created[0].SourceVersion) == "" {
				t.Error("the new version must copy the current one (SourceVersion)")
			}
			if out["version"] != c.wantVersion {
				t.Errorf("version = %v, want %s", out["version"], c.wantVersion)
			}
			if c.wantUndo == nil {
				if len(undos) != 0 || len(api.updates) != 0 {
					t.Fatal("no change expected")
				}
				return
			}
			if got := awssdk.ToString(g.LaunchTemplate.Version); got != c.wantVersion {
				t.Errorf("group holds version %s, want %s", got, c.wantVersion)
			}
			if len(undos) != 1 || !reflect.DeepEqual(undos[0].Params, c.wantUndo) {
				t.Fatalf("undos %+v, want %v", undos, c.wantUndo)
			}
			if _, _, err := runStep(t, "aws.asg.set-image", &asgSetImage{asg: api, ec2: ec}, undos[0].Params); err != nil {
				t.Fatal(err)
			}
			if got := awssdk.ToString(g.LaunchTemplate.Version); got != c.wantUndo["version"] {
				t.Errorf("after undo the group holds version %s, want %s", got, c.wantUndo["version"])
			}
		})
	}
}

func TestASGSetImageNeedsOneOfAMIAndVersion(t *testing.T) {
	for _, p := range []map[string]any{{"group": "web"}, {"group": "web", "ami": "a", "version": "1"}} {
		_, _, err := runStep(t, "aws.asg.set-image", &asgSetImage{asg: &fakeASG{}, ec2: &fakeEC2{}}, p)
		if err == nil || !strings.Contains(err.Error(), `"ami" or "version"`) {
			t.Errorf("%v: error %v", p, err)
		}
	}
}
