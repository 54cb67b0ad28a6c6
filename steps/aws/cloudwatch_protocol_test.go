package aws

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

func responseErr(status int, err error) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}
}

func TestProtocolMismatch(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"undecodable body", responseErr(404, &smithy.DeserializationError{Err: errors.New("decode argument: unexpected minor value 28")}), true},
		{"404 without a code", responseErr(404, errors.New("not found")), true},
		{"415 unknown operation", responseErr(415, &smithy.GenericAPIError{Code: "UnknownOperationException"}), true},
		{"throttled", responseErr(400, &smithy.GenericAPIError{Code: "Throttling"}), false},
		{"access denied", responseErr(403, &smithy.GenericAPIError{Code: "AccessDenied"}), false},
		{"404 with a CloudWatch code", responseErr(404, &smithy.GenericAPIError{Code: "ResourceNotFound"}), false},
		{"connection refused", errors.New("dial tcp 127.0.0.1:1: connection refused"), false},
	}
	for _, c := range cases {
		if got := protocolMismatch(c.err); got != c.want {
			t.Errorf("%s: protocolMismatch = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestMotoCloudWatchProtocolIsFoundOnce points a fresh client at moto with
// nothing but the standard settings: the first call goes out in CBOR (the
// SDK's default), is refused, and is repeated in awsQuery; every later
// call goes straight to awsQuery.
func TestMotoCloudWatchProtocolIsFoundOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("moto integration test skipped in -short mode")
	}
	for k := range awstest.Env("x") {
		if !strings.HasPrefix(k, "AWS_") {
			t.Fatalf("the test environment sets %s: only the SDK's standard variables may be needed", k)
		}
	}
	// Nothing of bluegreen's own may steer the protocol either.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BLUEGREEN_") && strings.Contains(kv, "CLOUDWATCH") {
			t.Fatalf("%s is set; the test must run with the standard variables only", kv)
		}
	}
	m, _ := awstest.Shared(t)
	cnt := awstest.NewCounter(m.URL)
	defer cnt.Close()
	cfg := awstest.Config(cnt.URL)
	cw := newAdaptiveCloudWatch(cloudwatch.NewFromConfig(cfg), cloudwatch.NewFromConfig(cfg, queryProtocol))
	ctx := context.Background()
	if _, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	// The CBOR attempt is counted by its URL path, the awsQuery one by
	// the Action in its form body: both name the operation.
	if got := cnt.Counts()["monitoring:DescribeAlarms"]; got != 2 {
		t.Fatalf("first call: %d requests, want 2 (CBOR refused, then awsQuery):\n%s", got, cnt)
	}
	if !cw.useQuery.Load() {
		t.Fatal("the client did not remember that the endpoint speaks awsQuery")
	}
	cnt.Reset()
	for i := 0; i < 3; i++ {
		if _, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := cnt.Total(); got != 3 {
		t.Fatalf("three later calls made %d requests, want 3:\n%s", got, cnt)
	}
}
