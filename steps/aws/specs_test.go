package aws

import (
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// TestSpecs checks what the registry cannot: every kind of this package
// is declared for AWS credentials, and constructing a step touches nothing
// (no client is created until Run).
func TestSpecs(t *testing.T) {
	want := []string{
		"aws.asg.describe", "aws.asg.scale", "aws.asg.set-image",
		"aws.cloudwatch.alarm", "aws.cloudwatch.compare", "aws.cloudwatch.metric",
		"aws.elbv2.get-weights", "aws.elbv2.preview", "aws.elbv2.set-weights", "aws.elbv2.target-health",
		"aws.route53.get-record", "aws.route53.get-weights", "aws.route53.health-check",
		"aws.route53.set-records", "aws.route53.set-weights",
	}
	shared.mu.Lock()
	before := [5]any{shared.asg, shared.elb, shared.r53, shared.cw, shared.ec}
	shared.mu.Unlock()
	mutating := map[string]bool{"aws.asg.scale": true, "aws.asg.set-image": true, "aws.elbv2.set-weights": true, "aws.elbv2.preview": true, "aws.route53.set-weights": true, "aws.route53.set-records": true}
	for _, kind := range want {
		s, ok := steps.Lookup(kind)
		if !ok {
			t.Errorf("%s is not registered", kind)
			continue
		}
		if s.Credentials != steps.AWSCredentials {
			t.Errorf("%s: credentials %q", kind, s.Credentials)
		}
		if s.Mutates != mutating[kind] {
			t.Errorf("%s: Mutates = %v", kind, s.Mutates)
		}
		if s.New() == nil {
			t.Errorf("%s: New returned nil", kind)
		}
	}
	for _, s := range steps.All() {
		if strings.HasPrefix(s.Kind, "aws.") && !contains(want, s.Kind) {
			t.Errorf("unexpected kind %s: add it to this test", s.Kind)
		}
	}
	shared.mu.Lock()
	after := [5]any{shared.asg, shared.elb, shared.r53, shared.cw, shared.ec}
	shared.mu.Unlock()
	if before != after {
		t.Error("constructing steps created an AWS client")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
