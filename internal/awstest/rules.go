package awstest

import (
	"context"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// ListenerRules returns the shared listener's rules as AWS lists them,
// the default rule included (IsDefault, priority "default").
func (t *Topology) ListenerRules(ctx context.Context) ([]elbtypes.Rule, error) {
	out, err := t.elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: awssdk.String(t.Listener)})
	if err != nil {
		return nil, err
	}
	return out.Rules, nil
}

// ListenerDefaultActions returns the shared listener's default actions.
func (t *Topology) ListenerDefaultActions(ctx context.Context) ([]elbtypes.Action, error) {
	out, err := t.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{ListenerArns: []string{t.Listener}})
	if err != nil {
		return nil, err
	}
	return out.Listeners[0].DefaultActions, nil
}

// PutTargetGroupMetric publishes one datapoint of a target group metric
// for a colour (RequestCount, HTTPCode_Target_5XX_Count,
// TargetResponseTime, ...) at time at, as the load balancer would.
func (t *Topology) PutTargetGroupMetric(ctx context.Context, colour, metric string, value float64, at time.Time) error {
	unit := cwtypes.StandardUnitCount
	if metric == "TargetResponseTime" {
		unit = cwtypes.StandardUnitSeconds
	}
	_, err := t.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: awssdk.String("AWS/ApplicationELB"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: awssdk.String(metric), Dimensions: t.cwDimensions(colour), Value: awssdk.Float64(value),
			Unit: unit, Timestamp: awssdk.Time(at),
		}},
	})
	return err
}
