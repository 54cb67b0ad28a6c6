package aws

import (
	"context"
	"fmt"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.route53.get-record",
		Title:   "Get Route53 record",
		Summary: "Reads a simple (not weighted) CNAME or alias A/AAAA record and where it points.",
		Doc: "Used to find the live stack when a production name points at one stack at a time: " +
			"`live: \"target == colours.blue.dns ? 'blue' : 'green'\"`.",
		Preflight: awsZone,
		Rules: []steps.Rule{
			steps.Length("zone", 1, 44),
			steps.Length("name", 1, 1024),
		},
		Params: []steps.Param{
			{Name: "zone", Type: steps.String, Required: true, Doc: "Id of the hosted zone (with or without /hostedzone/).", Examples: []any{"Z0123456789ABCDEFGHIJ"}},
			{Name: "name", Type: steps.String, Required: true, Doc: "The record's DNS name.", Examples: []any{"app.example.com"}},
			{Name: "type", Type: steps.String, Doc: "Record type: CNAME, A or AAAA. When not given, the name's one simple record of those types is read.", Enum: recordTypes},
		},
		Outputs: []steps.Output{
			{Name: "type", Type: steps.String, Doc: "The record's type."},
			{Name: "target", Type: steps.String, Doc: "Where the record points: the CNAME value or the alias target's DNS name, without the final dot."},
			{Name: "values", Type: steps.List, Doc: "All values of a non-alias record."},
			{Name: "alias", Type: steps.Bool, Doc: "Whether the record is an alias."},
			{Name: "alias_zone", Type: steps.String, Doc: "Hosted zone id of the alias target (empty for non-alias records)."},
			{Name: "ttl", Type: steps.Int, Doc: "The record's TTL in seconds (0 for aliases)."},
		},
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &r53GetRecord{} },
	})
}

type r53GetRecord struct{ api route53API }

func (s *r53GetRecord) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := route53Client(s.api)
	if err != nil {
		return nil, err
	}
	p := call.Params
	zone, name := zoneID(p.String("zone")), p.String("name")
	rs, err := simpleRecord(ctx, api, zone, name, p.String("type"))
	if err != nil {
		return nil, err
	}
	if rs == nil {
		return nil, fmt.Errorf("route53:ListResourceRecordSets on %s in hosted zone %s: no simple CNAME, A or AAAA record", name, zone)
	}
	return recordOutputs(rs), nil
}

// simpleRecord returns the one record of a name that has no
// SetIdentifier, or nil when there is none.
func simpleRecord(ctx context.Context, api route53API, zone, name, rrtype string) (*r53types.ResourceRecordSet, error) {
	sets, err := recordSets(ctx, api, zone, name, rrtype)
	if err != nil {
		return nil, err
	}
	var found []*r53types.ResourceRecordSet
	for i := range sets {
		if sets[i].SetIdentifier == nil && isTrafficType(sets[i].Type) {
			found = append(found, &sets[i])
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%s in hosted zone %s has simple records of several types: give the param \"type\"", name, zone)
}

func recordOutputs(rs *r53types.ResourceRecordSet) steps.Outputs {
	values := []any{}
	for _, r := range rs.ResourceRecords {
		values = append(values, strings.TrimSuffix(awssdk.ToString(r.Value), "."))
	}
	aliasZone := ""
	if rs.AliasTarget != nil {
		aliasZone = awssdk.ToString(rs.AliasTarget.HostedZoneId)
	}
	return steps.Outputs{
		"type":       string(rs.Type),
		"target":     recordTarget(rs),
		"values":     values,
		"alias":      rs.AliasTarget != nil,
		"alias_zone": aliasZone,
		"ttl":        int(awssdk.ToInt64(rs.TTL)),
	}
}
