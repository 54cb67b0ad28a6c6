package awstest

import (
	"context"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// CloudWatch metrics and alarms, and Route53 health checks, of a colour.

// Dimensions are the CloudWatch dimensions AWS gives a target group's
// metrics: "targetgroup/NAME/ID" and "app/NAME/ID", the ARNs' resource parts.
func (t *Topology) Dimensions(colour string) map[string]string {
	s := t.Stacks[colour]
	return map[string]string{
		"TargetGroup":  s.TargetGroup[strings.Index(s.TargetGroup, "targetgroup/"):],
		"LoadBalancer": strings.TrimPrefix(s.LoadBalancer[strings.Index(s.LoadBalancer, "loadbalancer/"):], "loadbalancer/"),
	}
}

// cwDimensions returns a colour's dimensions sorted by name. Gap: moto
// 5.2.1 matches GetMetricData dimensions against stored ones in list order
// (its Dimension.__lt__ is broken, so its sorted() does not normalise), where
// AWS treats them as a set; steps/aws sends them sorted by name, so the
// fixtures publish them in that order too.
func (t *Topology) cwDimensions(colour string) []cwtypes.Dimension {
	d := t.Dimensions(colour)
	names := make([]string, 0, len(d))
	for k := range d {
		names = append(names, k)
	}
	sort.Strings(names)
	var dims []cwtypes.Dimension
	for _, k := range names {
		dims = append(dims, cwtypes.Dimension{Name: awssdk.String(k), Value: awssdk.String(d[k])})
	}
	return dims
}

// PutErrors publishes count target 5xx errors for a colour at the current
// minute, as the load balancer would.
func (t *Topology) PutErrors(ctx context.Context, colour string, count float64) error {
	dims := t.cwDimensions(colour)
	_, err := t.cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: awssdk.String("AWS/ApplicationELB"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: awssdk.String("HTTPCode_Target_5XX_Count"), Dimensions: dims, Value: awssdk.Float64(count),
			Unit: cwtypes.StandardUnitCount, Timestamp: awssdk.Time(time.Now()),
		}},
	})
	return err
}

// HealthCheck creates a Route53 HTTP health check of a colour's load
// balancer and returns its id.
func (t *Topology) HealthCheck(ctx context.Context, colour string) (string, error) {
	out, err := t.r53.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{
		CallerReference: awssdk.String(t.Name + "-hc-" + colour),
		HealthCheckConfig: &r53types.HealthCheckConfig{
			Type: r53types.HealthCheckTypeHttp, FullyQualifiedDomainName: awssdk.String(t.Stacks[colour].DNS),
			Port: awssdk.Int32(80), ResourcePath: awssdk.String("/healthz"),
		},
	})
	if err != nil {
		return "", err
	}
	return awssdk.ToString(out.HealthCheck.Id), nil
}

// Alarm creates (or updates) a metric alarm on a colour's 5xx count and
// forces it into state ("OK", "ALARM" or "INSUFFICIENT_DATA").
func (t *Topology) Alarm(ctx context.Context, name, colour, state string) error {
	dims := t.cwDimensions(colour)
	if _, err := t.cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: awssdk.String(name), Namespace: awssdk.String("AWS/ApplicationELB"), MetricName: awssdk.String("HTTPCode_Target_5XX_Count"),
		Dimensions: dims, Statistic: cwtypes.StatisticSum, Period: awssdk.Int32(60), EvaluationPeriods: awssdk.Int32(1),
		Threshold: awssdk.Float64(5), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold,
	}); err != nil {
		return err
	}
	_, err := t.cw.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: awssdk.String(name), StateValue: cwtypes.StateValue(state), StateReason: awssdk.String("set by the test")})
	return err
}
