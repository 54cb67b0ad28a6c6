package aws

import (
	"context"
	"fmt"
	"sort"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.route53.get-weights",
		Title:   "Get Route53 weights",
		Summary: "Reads the weighted records of one DNS name, keyed by SetIdentifier.",
		Doc: "Works with weighted CNAME records and weighted alias A/AAAA records. With the colour names " +
			"as SetIdentifiers, a runbook finds the live colour with `weights.blue >= weights.green`.",
		Params: []steps.Param{
			{Name: "zone", Type: steps.String, Required: true, Doc: "Id of the hosted zone (with or without /hostedzone/).", Examples: []any{"Z0123456789ABCDEFGHIJ"}},
			{Name: "name", Type: steps.String, Required: true, Doc: "The DNS name of the weighted records.", Examples: []any{"app.example.com"}},
			{Name: "type", Type: steps.String, Doc: "Record type: CNAME, A or AAAA. When not given, the name must have weighted records of exactly one of them.", Enum: recordTypes},
		},
		Outputs: []steps.Output{
			{Name: "weights", Type: steps.Map, Doc: "Weight of each record, keyed by SetIdentifier."},
			{Name: "targets", Type: steps.Map, Doc: "Where each record points (CNAME value or alias DNS name), keyed by SetIdentifier."},
			{Name: "type", Type: steps.String, Doc: "The records' type."},
			{Name: "total", Type: steps.Int, Doc: "Sum of the weights."},
		},
		Credentials: steps.AWSCredentials,
		Traffic:     "weights",
		New:         func() steps.Step { return &r53GetWeights{} },
	})
}

type r53GetWeights struct{ api route53API }

func (s *r53GetWeights) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := route53Client(s.api)
	if err != nil {
		return nil, err
	}
	p := call.Params
	recs, rrtype, err := weightedRecords(ctx, api, zoneID(p.String("zone")), p.String("name"), p.String("type"))
	if err != nil {
		return nil, err
	}
	weights, targets := map[string]any{}, map[string]any{}
	total := 0
	for id, rs := range recs {
		w := int(awssdk.ToInt64(rs.Weight))
		weights[id], targets[id] = w, recordTarget(rs)
		total += w
	}
	return steps.Outputs{"weights": weights, "targets": targets, "type": rrtype, "total": total}, nil
}

// weightedRecords returns the weighted records of a name keyed by
// SetIdentifier, and their type. It fails when there are none, or when
// no type was asked for and the name has weighted records of two types.
func weightedRecords(ctx context.Context, api route53API, zone, name, rrtype string) (map[string]*r53types.ResourceRecordSet, string, error) {
	sets, err := recordSets(ctx, api, zone, name, rrtype)
	if err != nil {
		return nil, "", err
	}
	out := map[string]*r53types.ResourceRecordSet{}
	types := map[string]bool{}
	for i := range sets {
		rs := &sets[i]
		if rs.Weight == nil || rs.SetIdentifier == nil || !isTrafficType(rs.Type) {
			continue
		}
		types[string(rs.Type)] = true
		out[awssdk.ToString(rs.SetIdentifier)] = rs
	}
	if len(types) > 1 {
		var ts []string
		for t := range types {
			ts = append(ts, t)
		}
		sort.Strings(ts)
		return nil, "", fmt.Errorf("%s in hosted zone %s has weighted records of types %s: give the param \"type\"", name, zone, strings.Join(ts, " and "))
	}
	if len(out) == 0 {
		t := rrtype
		if t == "" {
			t = "CNAME, A or AAAA"
		}
		return nil, "", fmt.Errorf("route53:ListResourceRecordSets on %s in hosted zone %s: no weighted %s records", name, zone, t)
	}
	for t := range types {
		rrtype = t
	}
	return out, rrtype, nil
}
