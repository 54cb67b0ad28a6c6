package awstest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

func TestMain(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

func targetStates(t *testing.T, topo *Topology, colour string) map[string]int {
	t.Helper()
	out, err := topo.elb.DescribeTargetHealth(context.Background(), &elbv2.DescribeTargetHealthInput{TargetGroupArn: awssdk.String(topo.Stacks[colour].TargetGroup)})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, d := range out.TargetHealthDescriptions {
		states[string(d.TargetHealth.State)]++
	}
	return states
}

// TestMotoBehaviour pins what the fixtures and the end-to-end tests rely
// on, so a moto upgrade that changes it fails here first, with a clear
// name, instead of somewhere in a runbook run.
func TestMotoBehaviour(t *testing.T) {
	m, cnt := Shared(t)
	ctx := context.Background()
	topo := New(t, m.URL, Options{})

	t.Run("live group registered and healthy", func(t *testing.T) {
		if got := targetStates(t, topo, "blue"); got["healthy"] != 2 || len(got) != 1 {
			t.Fatalf("blue targets %v, want 2 healthy", got)
		}
		if got := targetStates(t, topo, "green"); len(got) != 0 {
			t.Fatalf("green targets %v, want none", got)
		}
	})
	t.Run("weighted records", func(t *testing.T) {
		w, err := topo.DNSWeights(ctx)
		if err != nil || w["blue"] != 100 || w["green"] != 0 {
			t.Fatalf("weights %v %v", w, err)
		}
	})
	t.Run("stopped target is unused", func(t *testing.T) {
		if _, err := topo.AddStoppedTarget(ctx, "green"); err != nil {
			t.Fatal(err)
		}
		if got := targetStates(t, topo, "green"); got["unused"] != 1 {
			t.Fatalf("green targets %v, want 1 unused", got)
		}
	})
	t.Run("scale in leaves terminated targets until DeregisterGone", func(t *testing.T) {
		if _, err := topo.asg.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{AutoScalingGroupName: awssdk.String(topo.Stacks["blue"].ASG), DesiredCapacity: awssdk.Int32(0)}); err != nil {
			t.Fatal(err)
		}
		if got := targetStates(t, topo, "blue"); got["healthy"] != 2 {
			t.Fatalf("blue targets %v: moto now deregisters terminated instances itself; DeregisterGone can go", got)
		}
		if err := topo.DeregisterGone(ctx); err != nil {
			t.Fatal(err)
		}
		if got := targetStates(t, topo, "blue"); len(got) != 0 {
			t.Fatalf("blue targets after DeregisterGone %v", got)
		}
	})
	t.Run("metric data round trip", func(t *testing.T) {
		if err := topo.PutErrors(ctx, "green", 7); err != nil {
			t.Fatal(err)
		}
		dims := topo.cwDimensions("green")
		now := time.Now()
		out, err := topo.cw.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
			StartTime: awssdk.Time(now.Add(-5 * time.Minute)), EndTime: awssdk.Time(now.Add(time.Minute)),
			MetricDataQueries: []cwtypes.MetricDataQuery{{Id: awssdk.String("m1"), ReturnData: awssdk.Bool(true), MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: awssdk.String("AWS/ApplicationELB"), MetricName: awssdk.String("HTTPCode_Target_5XX_Count"), Dimensions: dims},
				Period: awssdk.Int32(60), Stat: awssdk.String("Sum"),
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.MetricDataResults) != 1 || len(out.MetricDataResults[0].Values) != 1 || out.MetricDataResults[0].Values[0] != 7 {
			t.Fatalf("results %+v", out.MetricDataResults)
		}
	})
	t.Run("dimensions as AWS forms them", func(t *testing.T) {
		d := topo.Dimensions("green")
		if !strings.HasPrefix(d["TargetGroup"], "targetgroup/"+topo.Name+"-green/") || !strings.HasPrefix(d["LoadBalancer"], "app/"+topo.Name+"-green/") {
			t.Fatalf("dimensions %v", d)
		}
	})
	if cnt.Total() != 0 {
		t.Errorf("the fixture's own calls went through the counter (%d)", cnt.Total())
	}
}

func TestCounterCountsByOperation(t *testing.T) {
	m, _ := Shared(t)
	c := NewCounter(m.URL)
	defer c.Close()
	topo := New(t, c.URL, Options{SharedALB: true})
	counts := c.Counts()
	for _, k := range []string{"ec2:CreateVpc", "elasticloadbalancing:CreateListener", "autoscaling:CreateAutoScalingGroup", "route53:ChangeResourceRecordSets"} {
		if counts[k] == 0 {
			t.Errorf("no %s counted in\n%s", k, c)
		}
	}
	if counts["ec2:CreateSubnet"] != 2 {
		t.Errorf("ec2:CreateSubnet = %d, want 2", counts["ec2:CreateSubnet"])
	}
	c.Reset()
	if _, err := topo.ListenerWeights(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Total() != 1 || c.Counts()["elasticloadbalancing:DescribeListeners"] != 1 {
		t.Errorf("counts after one call:\n%s", c)
	}
}
