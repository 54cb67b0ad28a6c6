package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bluegreen-deploy/bluegreen/internal/awstest"
)

// weightSets are the two traffic splits the runs alternate between, so that
// every run really changes the weights AWS holds.
var weightSets = []map[string]int{{"blue": 100, "green": 0}, {"blue": 0, "green": 100}}

// comparison is one traffic switch done by bluegreen and by the AWS CLI
// the way the Octopus Library's blue/green templates do it.
type comparison struct {
	name      string
	bluegreen func(w map[string]int) []call
	cli       func(w map[string]int) []call
	// held reads the weights AWS holds, so that every run is checked to
	// have switched.
	held func(ctx context.Context) (map[string]int, error)
}

func elbComparison(bin, aws string, t *awstest.Topology) comparison {
	tg := func(c string) string { return t.Stacks[c].TargetGroup }
	return comparison{
		name: "ALB listener weights",
		bluegreen: func(w map[string]int) []call {
			return []call{argv(bin, "step", "run", "aws.elbv2.set-weights", "--log-level", "warn",
				"--param", "listener="+t.Listener,
				"--param", fmt.Sprintf("weights={%q: %d, %q: %d}", tg("blue"), w["blue"], tg("green"), w["green"]))}
		},
		cli: func(w map[string]int) []call {
			actions := fmt.Sprintf(`[{"Type":"forward","ForwardConfig":{"TargetGroups":[{"TargetGroupArn":%q,"Weight":%d},{"TargetGroupArn":%q,"Weight":%d}]}}]`,
				tg("blue"), w["blue"], tg("green"), w["green"])
			return []call{
				argv(aws, "elbv2", "modify-listener", "--listener-arn", t.Listener, "--default-actions", actions),
				argv(aws, "elbv2", "describe-listeners", "--listener-arns", t.Listener),
			}
		},
		held: t.ListenerWeights,
	}
}

func dnsComparison(bin, aws string, t *awstest.Topology) comparison {
	return comparison{
		name: "Route53 weighted records",
		bluegreen: func(w map[string]int) []call {
			return []call{argv(bin, "step", "run", "aws.route53.set-weights", "--log-level", "warn",
				"--param", "zone="+t.ZoneID, "--param", "name="+t.Record,
				"--param", fmt.Sprintf("weights={blue: %d, green: %d}", w["blue"], w["green"]))}
		},
		cli: func(w map[string]int) []call {
			// The Library's way: UPSERT both weighted records, then ask
			// for the change's status with the id the first call printed.
			var changes []map[string]any
			for _, c := range awstest.Colours {
				changes = append(changes, map[string]any{"Action": "UPSERT", "ResourceRecordSet": map[string]any{
					"Name": t.Record, "Type": "CNAME", "TTL": 60, "SetIdentifier": c, "Weight": w[c],
					"ResourceRecords": []map[string]string{{"Value": t.Stacks[c].DNS}},
				}})
			}
			batch, _ := json.Marshal(map[string]any{"Changes": changes})
			return []call{
				argv(aws, "route53", "change-resource-record-sets", "--hosted-zone-id", t.ZoneID,
					"--change-batch", string(batch), "--query", "ChangeInfo.Id", "--output", "text"),
				func(id string) []string { return []string{aws, "route53", "get-change", "--id", id} },
			}
		},
		held: t.DNSWeights,
	}
}

// result is a comparison's figures.
type result struct {
	name      string
	bluegreen stats
	cli       stats
}

// compare runs the two sides in the order bluegreen, CLI, CLI, bluegreen
// (repeated), each run switching to the other weight set, after one
// unmeasured warm-up run of each (the first start reads the binaries and
// Python's modules from disk).
func compare(ctx context.Context, r *runner, c comparison, rounds int) (result, error) {
	res := result{name: c.name}
	var bg, cli []sample
	order := []bool{true, false, false, true} // true: bluegreen
	for k := -2; k < 4*rounds/2; k++ {
		isBG := order[(k+4)%4]
		w := weightSets[(k+2)%2]
		calls := c.cli(w)
		if isBG {
			calls = c.bluegreen(w)
		}
		s, err := r.run(calls...)
		if err != nil {
			return res, fmt.Errorf("%s: %w", c.name, err)
		}
		got, err := c.held(ctx)
		if err != nil {
			return res, fmt.Errorf("%s: read weights back: %w", c.name, err)
		}
		for _, colour := range awstest.Colours {
			if got[colour] != w[colour] {
				return res, fmt.Errorf("%s: after a run AWS holds %v, want %v", c.name, got, w)
			}
		}
		if k < 0 {
			continue
		}
		if isBG {
			bg = append(bg, s)
		} else {
			cli = append(cli, s)
		}
	}
	res.bluegreen, res.cli = summarise(bg), summarise(cli)
	return res, nil
}
