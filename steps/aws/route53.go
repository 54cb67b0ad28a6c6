package aws

import (
	"context"
	"fmt"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// This file holds what the Route53 steps share: name handling, reading the
// record sets of one name, and waiting for a change to reach every
// Route53 server.

// recordTypes are the record types the Route53 steps move traffic with:
// CNAMEs to a load balancer's DNS name, or alias A/AAAA records.
var recordTypes = []string{"CNAME", "A", "AAAA"}

// zoneID accepts a hosted zone id with or without the "/hostedzone/"
// prefix that some AWS answers carry.
func zoneID(z string) string { return strings.TrimPrefix(strings.TrimSpace(z), "/hostedzone/") }

// fqdn lower-cases a DNS name and adds the final dot, the form Route53
// answers with.
func fqdn(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

// recordSets returns the record sets named name (of type rrtype when not
// empty) in a zone.
func recordSets(ctx context.Context, api route53API, zone, name, rrtype string) ([]r53types.ResourceRecordSet, error) {
	in := &route53.ListResourceRecordSetsInput{
		HostedZoneId:    awssdk.String(zone),
		StartRecordName: awssdk.String(fqdn(name)),
	}
	if rrtype != "" {
		in.StartRecordType = r53types.RRType(rrtype)
	}
	var out []r53types.ResourceRecordSet
	for {
		page, err := api.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, failed("route53:ListResourceRecordSets", fmt.Sprintf("%s in hosted zone %s", name, zone), err)
		}
		for _, rs := range page.ResourceRecordSets {
			if fqdn(awssdk.ToString(rs.Name)) != fqdn(name) {
				return out, nil // records are sorted by name: the rest are other names
			}
			if rrtype == "" || string(rs.Type) == rrtype {
				out = append(out, rs)
			}
		}
		if !page.IsTruncated {
			return out, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = page.NextRecordName, page.NextRecordType, page.NextRecordIdentifier
	}
}

// recordTarget is where a record points: its alias target's DNS name or its
// first value.
func recordTarget(rs *r53types.ResourceRecordSet) string {
	if rs.AliasTarget != nil {
		return strings.TrimSuffix(awssdk.ToString(rs.AliasTarget.DNSName), ".")
	}
	if len(rs.ResourceRecords) > 0 {
		return strings.TrimSuffix(awssdk.ToString(rs.ResourceRecords[0].Value), ".")
	}
	return ""
}

// isTrafficType reports whether a record type is one the steps handle.
func isTrafficType(t r53types.RRType) bool {
	for _, x := range recordTypes {
		if string(t) == x {
			return true
		}
	}
	return false
}

// changeRecords submits one change batch and, when wait is set, waits until
// Route53 reports it INSYNC. It returns the change id.
func changeRecords(ctx context.Context, api route53API, zone, comment string, changes []r53types.Change, wait bool, timeout, poll time.Duration) (string, error) {
	out, err := api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: awssdk.String(zone),
		ChangeBatch:  &r53types.ChangeBatch{Changes: changes, Comment: awssdk.String(comment)},
	})
	if err != nil {
		return "", failed("route53:ChangeResourceRecordSets", "hosted zone "+zone, err)
	}
	if out.ChangeInfo == nil {
		return "", fmt.Errorf("route53:ChangeResourceRecordSets on hosted zone %s returned no change info", zone)
	}
	id := awssdk.ToString(out.ChangeInfo.Id)
	if !wait || out.ChangeInfo.Status == r53types.ChangeStatusInsync {
		return id, nil
	}
	return id, waitInsync(ctx, api, id, timeout, poll)
}

// waitInsync polls a change until every Route53 name server has it.
func waitInsync(ctx context.Context, api route53API, id string, timeout, poll time.Duration) error {
	if poll <= 0 {
		poll = 5 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		out, err := api.GetChange(ctx, &route53.GetChangeInput{Id: awssdk.String(id)})
		if err != nil {
			return failed("route53:GetChange", "change "+id, err)
		}
		if out.ChangeInfo != nil && out.ChangeInfo.Status == r53types.ChangeStatusInsync {
			return nil
		}
		if time.Now().Add(poll).After(deadline) {
			return fmt.Errorf("route53 change %s not INSYNC after %s (the change was submitted and will still be applied)", id, timeout)
		}
		if err := sleep(ctx, poll); err != nil {
			return err
		}
	}
}
