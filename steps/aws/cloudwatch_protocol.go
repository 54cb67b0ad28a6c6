package aws

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// CloudWatch speaks two wire protocols: Smithy RPCv2 CBOR, which the SDK
// uses by default since 2025, and awsQuery, its original protocol, which
// AWS still serves. Emulators lag behind: moto 5.2 answers only awsQuery
// (a CBOR request gets a 404 whose body the SDK cannot decode), and older
// LocalStack releases do the same. Rather than asking users to configure
// the protocol, the client speaks CBOR first (what AWS recommends, so a
// run against AWS never pays for the fallback) and, when the endpoint
// answers in a way only a server that does not speak CBOR would, repeats
// the call in awsQuery and keeps using awsQuery for the rest of the
// process. A real answer in either protocol, errors included, is never
// second-guessed: AccessDenied over CBOR stays AccessDenied.
type adaptiveCloudWatch struct {
	cbor, query *cloudwatch.Client
	// useQuery is set once the endpoint has shown it does not speak CBOR.
	// The client serves one endpoint (the process's configuration), so
	// remembering it here is remembering it per endpoint.
	useQuery atomic.Bool
}

func newAdaptiveCloudWatch(cbor, query *cloudwatch.Client) *adaptiveCloudWatch {
	return &adaptiveCloudWatch{cbor: cbor, query: query}
}

// queryProtocol makes a CloudWatch client speak awsQuery.
func queryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
}

func (a *adaptiveCloudWatch) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return adaptive(a, func(c *cloudwatch.Client) (*cloudwatch.GetMetricDataOutput, error) {
		return c.GetMetricData(ctx, in, opts...)
	})
}

func (a *adaptiveCloudWatch) DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	return adaptive(a, func(c *cloudwatch.Client) (*cloudwatch.DescribeAlarmsOutput, error) {
		return c.DescribeAlarms(ctx, in, opts...)
	})
}

func adaptive[T any](a *adaptiveCloudWatch, call func(*cloudwatch.Client) (T, error)) (T, error) {
	if a.useQuery.Load() {
		return call(a.query)
	}
	out, err := call(a.cbor)
	if err == nil || !protocolMismatch(err) {
		return out, err
	}
	qout, qerr := call(a.query)
	if qerr != nil && protocolMismatch(qerr) {
		// Neither protocol got an answer: the endpoint is not CloudWatch
		// at all (a wrong URL), which the first error shows best.
		return out, err
	}
	a.useQuery.Store(true)
	return qout, qerr
}

// protocolMismatch reports whether err is the answer of a server that did
// not understand the request's protocol: a body the SDK could not decode,
// or a 404/415 that carries no error code of the CloudWatch API (an
// endpoint that speaks CBOR answers every operation at its path). A
// throttling, permission or validation error is not a mismatch.
func protocolMismatch(err error) bool {
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return true
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch re.HTTPStatusCode() {
	case http.StatusNotFound, http.StatusUnsupportedMediaType:
	default:
		return false
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return true
	}
	switch ae.ErrorCode() {
	case "", "UnknownOperationException", "UnknownOperation", "InvalidAction", "NotFound", "UnsupportedMediaType":
		return true
	}
	return false
}
