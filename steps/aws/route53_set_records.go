package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.route53.set-records",
		Title:   "Set Route53 records",
		Summary: "Points several simple DNS records at new targets in one atomic change batch and waits until Route53 has applied it.",
		Doc: "All names change in the same batch, so a production and a pre-production name swap " +
			"targets together or not at all. CNAME records get `ttl`; A and AAAA records are aliases " +
			"(to a load balancer, say) whose hosted zone is `alias_zone`, or the existing record's. " +
			"Undo points every record back where it was and deletes the records the step created.",
		Preflight: awsZone,
		Rules: []steps.Rule{
			steps.AtLeastOneOf("records", "delete"),
			steps.Length("zone", 1, 44),
			steps.Between("ttl", 0, 2147483647),
			steps.PositiveDuration("wait_timeout"),
			steps.PositiveDuration("poll"),
		},
		Params: []steps.Param{
			{Name: "zone", Type: steps.String, Required: true, Doc: "Id of the hosted zone (with or without /hostedzone/).", Examples: []any{"Z0123456789ABCDEFGHIJ"}},
			{Name: "records", Type: steps.Map, Items: steps.String,
				Doc:      "Target of each record, keyed by DNS name (the CNAME value or the alias target's DNS name).",
				Examples: []any{map[string]any{"app.example.com": "green-alb-123.eu-west-1.elb.amazonaws.com", "pre.example.com": "blue-alb-456.eu-west-1.elb.amazonaws.com"}}},
			{Name: "delete", Type: steps.List, Items: steps.String, Doc: "Names whose simple record of `type` is deleted in the same batch (used by undo)."},
			{Name: "type", Type: steps.String, Default: "CNAME", Enum: recordTypes, Doc: "Record type: CNAME, or A/AAAA for alias records."},
			{Name: "ttl", Type: steps.Int, Default: 60, Doc: "TTL in seconds of CNAME records."},
			{Name: "alias_zone", Type: steps.String, Doc: "Hosted zone id of the alias targets (for an ALB: its CanonicalHostedZoneId). Defaults to the existing record's."},
			{Name: "evaluate_target_health", Type: steps.Bool, Default: false, Doc: "EvaluateTargetHealth of alias records."},
			{Name: "wait", Type: steps.Bool, Default: true, Doc: "Wait until the change is INSYNC on every Route53 name server."},
			{Name: "wait_timeout", Type: steps.Duration, Default: 5 * time.Minute, Doc: "How long `wait` waits before the step fails."},
			{Name: "poll", Type: steps.Duration, Default: 5 * time.Second, Doc: "How often `wait` asks Route53 about the change."},
		},
		Outputs: []steps.Output{
			{Name: "previous", Type: steps.Map, Doc: "Where each named record pointed before the step (\"\" when it did not exist)."},
			{Name: "change_id", Type: steps.String, Doc: "Id of the Route53 change (empty when nothing changed)."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether any record was changed."},
		},
		Mutates:     true,
		Credentials: steps.AWSCredentials,
		New:         func() steps.Step { return &r53SetRecords{} },
	})
}

type r53SetRecords struct{ api route53API }

func (s *r53SetRecords) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	records, deletes := p.StringMap("records"), p.Strings("delete")
	if len(records) == 0 && len(deletes) == 0 {
		return nil, errors.New("params \"records\" and \"delete\" are both empty: nothing to change")
	}
	api, err := route53Client(s.api)
	if err != nil {
		return nil, err
	}
	zone, rrtype := zoneID(p.String("zone")), p.String("type")
	alias := rrtype != "CNAME"

	names := make([]string, 0, len(records))
	for n := range records {
		names = append(names, n)
	}
	sort.Strings(names)

	var changes []r53types.Change
	previous := map[string]any{}
	undoRecords, undoDelete := map[string]any{}, []any{}
	undoTTL, undoAliasZone := 0, ""
	remember := func(rs *r53types.ResourceRecordSet) {
		if undoTTL == 0 && rs.TTL != nil {
			undoTTL = int(*rs.TTL)
		}
		if undoAliasZone == "" && rs.AliasTarget != nil {
			undoAliasZone = awssdk.ToString(rs.AliasTarget.HostedZoneId)
		}
	}
	for _, name := range names {
		target := strings.TrimSuffix(strings.TrimSpace(records[name]), ".")
		if target == "" {
			return nil, fmt.Errorf("param \"records\": empty target for %q", name)
		}
		cur, err := simpleRecord(ctx, api, zone, name, rrtype)
		if err != nil {
			return nil, err
		}
		rs := r53types.ResourceRecordSet{Name: awssdk.String(fqdn(name)), Type: r53types.RRType(rrtype)}
		if alias {
			az := p.String("alias_zone")
			if az == "" && cur != nil && cur.AliasTarget != nil {
				az = awssdk.ToString(cur.AliasTarget.HostedZoneId)
			}
			if az == "" {
				return nil, fmt.Errorf("%s: an alias %s record needs the param \"alias_zone\" (the target's hosted zone id)", name, rrtype)
			}
			rs.AliasTarget = &r53types.AliasTarget{DNSName: awssdk.String(target), HostedZoneId: awssdk.String(az), EvaluateTargetHealth: p.Bool("evaluate_target_health")}
		} else {
			rs.TTL = awssdk.Int64(int64(p.Int("ttl")))
			rs.ResourceRecords = []r53types.ResourceRecord{{Value: awssdk.String(target)}}
		}
		previous[name] = ""
		if cur != nil {
			previous[name] = recordTarget(cur)
			if sameRecord(cur, &rs) {
				continue
			}
			undoRecords[name] = recordTarget(cur)
			remember(cur)
		} else {
			undoDelete = append(undoDelete, name)
		}
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &rs})
	}
	for _, name := range deletes {
		cur, err := simpleRecord(ctx, api, zone, name, rrtype)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			continue
		}
		previous[name] = recordTarget(cur)
		undoRecords[name] = recordTarget(cur)
		remember(cur)
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: cur})
	}
	out := steps.Outputs{"previous": previous, "change_id": "", "changed": false}
	if len(changes) == 0 {
		return out, nil
	}

	undo := map[string]any{"zone": zone, "type": rrtype}
	if len(undoRecords) > 0 {
		undo["records"] = undoRecords
	}
	if len(undoDelete) > 0 {
		undo["delete"] = undoDelete
	}
	if undoTTL > 0 {
		undo["ttl"] = undoTTL
	}
	if undoAliasZone != "" {
		undo["alias_zone"] = undoAliasZone
	}
	if err := call.BeforeChange(steps.Undo{
		Kind:   "aws.route53.set-records",
		Params: undo,
		Note:   fmt.Sprintf("point %s back at %s", strings.Join(names, ", "), formatMap(undoRecords)),
	}); err != nil {
		return nil, err
	}
	id, err := changeRecords(ctx, api, zone, "bluegreen: set records "+strings.Join(names, ", "), changes, p.Bool("wait"), p.Duration("wait_timeout"), p.Duration("poll"))
	out["change_id"], out["changed"] = id, true
	if err != nil {
		return out, err
	}
	call.Log.Info().Strs("names", names).Msg("route53 records set")
	return out, nil
}

// sameRecord reports whether an existing record already is what the step
// would write.
func sameRecord(cur, want *r53types.ResourceRecordSet) bool {
	if !strings.EqualFold(recordTarget(cur), recordTarget(want)) {
		return false
	}
	if want.AliasTarget != nil {
		return cur.AliasTarget != nil &&
			awssdk.ToString(cur.AliasTarget.HostedZoneId) == awssdk.ToString(want.AliasTarget.HostedZoneId) &&
			cur.AliasTarget.EvaluateTargetHealth == want.AliasTarget.EvaluateTargetHealth
	}
	return cur.AliasTarget == nil && len(cur.ResourceRecords) == 1 && awssdk.ToInt64(cur.TTL) == awssdk.ToInt64(want.TTL)
}
