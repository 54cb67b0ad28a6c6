package aws

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

func TestFailedKeepsCallResourceAndAWSAnswer(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{apiErr("Throttling", "Rate exceeded"), `autoscaling:UpdateAutoScalingGroup on group "web" failed: Throttling: Rate exceeded`},
		{errors.New("dial tcp 127.0.0.1:1: connection refused"), `autoscaling:UpdateAutoScalingGroup on group "web" failed: dial tcp 127.0.0.1:1: connection refused`},
	}
	for _, c := range cases {
		err := failed("autoscaling:UpdateAutoScalingGroup", `group "web"`, c.err)
		if err.Error() != c.want {
			t.Errorf("got %q, want %q", err, c.want)
		}
		if !errors.Is(err, c.err) {
			t.Error("the SDK error must stay reachable with errors.Is/As")
		}
	}
}

func TestCloudWatchProtocol(t *testing.T) {
	for _, c := range []struct {
		env     string
		query   bool
		wantErr bool
	}{{"", false, false}, {"cbor", false, false}, {"Query", true, false}, {"json", false, true}} {
		opt, err := cloudwatchProtocol(c.env)
		if (err != nil) != c.wantErr {
			t.Fatalf("%q: err %v", c.env, err)
		}
		if err != nil {
			continue
		}
		var o cloudwatch.Options
		opt(&o)
		_, isQuery := o.Protocol.(*awsquery.Protocol)
		if isQuery != c.query {
			t.Errorf("%q: protocol %T", c.env, o.Protocol)
		}
	}
}
