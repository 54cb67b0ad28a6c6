package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
	"github.com/bluegreen-deploy/bluegreen/steps/steptest"
)

// TestMotoPreviewPreflight: before a run changes anything, a preview
// rule's listener and target group must both exist; a wrong one is named.
func TestMotoPreviewPreflight(t *testing.T) {
	topo := moto(t, awstest.Options{SharedALB: true})
	spec := steptest.Spec(t, "aws.elbv2.preview")
	all := func(string) bool { return true }
	run := func(raw map[string]any) map[string]string {
		p, errs := spec.Bind(raw)
		if len(errs) > 0 {
			t.Fatalf("bind: %v", errs)
		}
		out := map[string]string{}
		for _, pr := range spec.Preflight(p, all) {
			msg := ""
			if err := pr.Run(context.Background()); err != nil {
				msg = err.Error()
			}
			out[pr.What] = msg
		}
		return out
	}
	green := topo.Stacks["green"].TargetGroup
	ok := map[string]any{"listener": topo.Listener, "target_group": green, "headers": map[string]any{"X-Preview": "green"}}
	got := run(ok)
	if len(got) != 3 {
		t.Fatalf("probes %v, want credentials, listener and target group", got)
	}
	for what, msg := range got {
		if msg != "" {
			t.Errorf("%s: %s", what, msg)
		}
	}
	if _, ok := got["listener "+topo.Listener+" exists"]; !ok {
		t.Errorf("no listener probe in %v", got)
	}
	if _, ok := got["target group "+green+" exists"]; !ok {
		t.Errorf("no target group probe in %v", got)
	}

	missing := strings.Replace(green, "/green", "/gone", 1)
	missing = missing[:strings.LastIndex(missing, "/")+1] + "0000000000000000"
	bad := map[string]any{"listener": topo.Listener, "target_group": missing, "headers": map[string]any{"X-Preview": "green"}}
	if msg := run(bad)["target group "+missing+" exists"]; !strings.Contains(msg, missing) {
		t.Errorf("a missing target group: %q", msg)
	}

	// Params known only later (an expression) are not probed yet.
	p, _ := spec.Bind(ok)
	if n := len(spec.Preflight(p, func(n string) bool { return n != "target_group" && n != "listener" })); n != 1 {
		t.Errorf("%d probes with unknown listener and target group, want the credentials one", n)
	}
}
