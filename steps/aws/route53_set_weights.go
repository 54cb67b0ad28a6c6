package aws

import (
	"context"
	"fmt"
	"sort"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "aws.route53.set-weights",
		Title:   "Set Route53 weights",
		Summary: "Sets the weights of one DNS name's weighted records in a single change batch and waits until Route53 has applied it.",
		Doc: "Records are named by SetIdentifier and must already exist; everything but the weight " +
			"(target, TTL, health check) is kept. All changed records go in one UPSERT batch, so " +
			"resolvers never see a half-applied shift. Undo restores the previous weights.",
		Params: []steps.Param{
			{Name: "zone", Type: steps.String, Required: true, Doc: "Id of the hosted zone (with or without /hostedzone/).", Examples: []any{"Z0123456789ABCDEFGHIJ"}},
			{Name: "name", Type: steps.String, Required: true, Doc: "The DNS name of the weighted records.", Examples: []any{"app.example.com"}},
			{Name: "type", Type: steps.String, Doc: "Record type: CNAME, A or AAAA. When not given, the name must have weighted records of exactly one of them.", Enum: recordTypes},
			{Name: "weights", Type: steps.Map, Items: steps.Int, Required: true,
				Doc:      "New weight (0-255) of each record, keyed by SetIdentifier.",
				Examples: []any{map[string]any{"blue": 50, "green": 50}}},
			{Name: "wait", Type: steps.Bool, Default: true, Doc: "Wait until the change is INSYNC on every Route53 name server."},
			{Name: "wait_timeout", Type: steps.Duration, Default: 5 * time.Minute, Doc: "How long `wait` waits before the step fails."},
			{Name: "poll", Type: steps.Duration, Default: 5 * time.Second, Doc: "How often `wait` asks Route53 about the change."},
			{Name: "rollback_settle", Type: steps.Duration, Default: 30 * time.Second,
				Doc: "In a rollback that first restored capacity (a finished release whose old group had been scaled in), how long the weights this step's undo restores are held before the next undo of this kind moves more traffic back; 0 goes back without pausing. A rollback that did not restore capacity never pauses."},
		},
		Outputs: []steps.Output{
			{Name: "weights", Type: steps.Map, Doc: "Weights of all the name's weighted records after the step, keyed by SetIdentifier."},
			{Name: "previous", Type: steps.Map, Doc: "Weights before the step, keyed by SetIdentifier."},
			{Name: "change_id", Type: steps.String, Doc: "Id of the Route53 change (empty when nothing changed)."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether any weight was changed."},
		},
		Mutates:     true,
		Credentials: steps.AWSCredentials,
		Traffic:     "weights",
		New:         func() steps.Step { return &r53SetWeights{} },
	})
}

type r53SetWeights struct{ api route53API }

func (s *r53SetWeights) Run(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	api, err := route53Client(s.api)
	if err != nil {
		return nil, err
	}
	p := call.Params
	zone, name := zoneID(p.String("zone")), p.String("name")
	recs, rrtype, err := weightedRecords(ctx, api, zone, name, p.String("type"))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Strings(ids)

	after, previous, undo := map[string]any{}, map[string]any{}, map[string]any{}
	for id, rs := range recs {
		after[id] = int(awssdk.ToInt64(rs.Weight))
		previous[id] = after[id]
	}
	var changes []r53types.Change
	req := p.Map("weights")
	keys := make([]string, 0, len(req))
	for k := range req {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, id := range keys {
		w, ok := req[id].(int)
		if !ok || w < 0 || w > 255 {
			return nil, fmt.Errorf("param \"weights\": weight of %q must be an integer from 0 to 255, found %v", id, req[id])
		}
		rs, ok := recs[id]
		if !ok {
			return nil, fmt.Errorf("%s in hosted zone %s has no weighted %s record with SetIdentifier %q (found: %v)", name, zone, rrtype, id, ids)
		}
		if int(awssdk.ToInt64(rs.Weight)) == w {
			continue
		}
		undo[id] = previous[id]
		after[id] = w
		upd := *rs
		upd.Weight = awssdk.Int64(int64(w))
		if upd.AliasTarget != nil {
			upd.TTL = nil // alias records take the target's TTL; Route53 rejects one
		}
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &upd})
	}
	out := steps.Outputs{"weights": after, "previous": previous, "change_id": "", "changed": false}
	if len(changes) == 0 {
		return out, nil
	}
	if err := call.BeforeChange(steps.Undo{
		Kind:   "aws.route53.set-weights",
		Params: map[string]any{"zone": zone, "name": name, "type": rrtype, "weights": undo},
		Note:   fmt.Sprintf("restore %s weights to %s", name, formatMap(undo)),
		Settle: p.Duration("rollback_settle"),
	}); err != nil {
		return nil, err
	}
	id, err := changeRecords(ctx, api, zone, "bluegreen: set weights of "+name, changes, p.Bool("wait"), p.Duration("wait_timeout"), p.Duration("poll"))
	out["change_id"], out["changed"] = id, true
	if err != nil {
		return out, err
	}
	call.Log.Info().Str("name", name).Str("weights", formatMap(after)).Msg("route53 weights set")
	return out, nil
}
