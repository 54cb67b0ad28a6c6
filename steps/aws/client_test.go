package aws

import (
	"errors"
	"testing"
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
