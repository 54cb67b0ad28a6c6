package aws

import (
	"context"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.route53.health-check",
		Title:   "Route53 health check status",
		Summary: "Reads how many Route53 health checkers currently report a health check as OK.",
		Doc: "Route53 considers an endpoint healthy when more than 18% of its checkers report it OK; " +
			"`healthy` applies that rule and `ratio` gives the share for stricter gates such as " +
			"`until: \"ratio >= 0.9\"`.",
		Preflight: awsReady,
		Rules: []steps.Rule{
			steps.Length("health_check", 1, 64),
		},
		Params: []steps.Param{
			{Name: "health_check", Type: steps.String, Required: true, Doc: "Id of the Route53 health check.", Examples: []any{"0e3a4f5c-1234-4d2e-9f00-123456789abc"}},
		},
		Outputs: []steps.Output{
			{Name: "ok", Type: steps.Int, Doc: "Checkers whose last report was a success."},
			{Name: "total", Type: steps.Int, Doc: "Checkers that reported."},
			{Name: "ratio", Type: steps.Number, Doc: "ok / total (0 when no checker reported)."},
			{Name: "healthy", Type: steps.Bool, Doc: "Whether Route53 considers the endpoint healthy (more than 18% of checkers OK)."},
			{Name: "failures", Type: steps.Map, Doc: "The status reported by each failing checker, keyed by checker region and IP."},
		},
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &r53HealthCheck{} },
	})
}

// healthyShare is the share of checkers Route53 needs to consider an
// endpoint healthy.
const healthyShare = 0.18

type r53HealthCheck struct{ api route53API }

func (s *r53HealthCheck) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := route53Client(s.api)
	if err != nil {
		return nil, err
	}
	id := call.Params.String("health_check")
	out, err := api.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: awssdk.String(id)})
	if err != nil {
		return nil, failed("route53:GetHealthCheckStatus", "health check "+id, err)
	}
	ok, total := 0, 0
	failures := map[string]any{}
	for _, o := range out.HealthCheckObservations {
		if o.StatusReport == nil {
			continue
		}
		total++
		status := awssdk.ToString(o.StatusReport.Status)
		if strings.HasPrefix(status, "Success") {
			ok++
			continue
		}
		k := string(o.Region) + " " + awssdk.ToString(o.IPAddress)
		failures[k] = status
	}
	ratio := 0.0
	if total > 0 {
		ratio = float64(ok) / float64(total)
	}
	return steps.Outputs{"ok": ok, "total": total, "ratio": ratio, "healthy": total > 0 && ratio > healthyShare, "failures": failures}, nil
}
