package aws

import (
	"reflect"
	"strings"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
)

func zoneWith(recs ...r53types.ResourceRecordSet) *fakeR53 {
	f := &fakeR53{records: recs}
	f.sort()
	return f
}

func simple(name, typ, target string) r53types.ResourceRecordSet {
	rs := weighted(name, typ, "", 0, target)
	rs.SetIdentifier, rs.Weight = nil, nil
	return rs
}

func TestRoute53GetWeights(t *testing.T) {
	cases := []struct {
		name    string
		zone    *fakeR53
		params  map[string]any
		weights map[string]any
		typ     string
		wantErr string
	}{
		{"cname", zoneWith(
			weighted("app.example.com.", "CNAME", "blue", 100, "blue-lb.elb.amazonaws.com"),
			weighted("app.example.com.", "CNAME", "green", 0, "green-lb.elb.amazonaws.com"),
			weighted("apq.example.com.", "CNAME", "blue", 7, "x"),
			simple("api.example.com.", "CNAME", "y"),
		), map[string]any{"name": "App.Example.com"}, map[string]any{"blue": 100, "green": 0}, "CNAME", ""},
		{"alias over pages", func() *fakeR53 {
			f := zoneWith(
				simple("aaa.example.com.", "CNAME", "z"),
				weighted("app.example.com.", "A", "blue", 20, "blue-lb"),
				weighted("app.example.com.", "A", "green", 80, "green-lb"),
				weighted("app.example.com.", "A", "red", 0, "red-lb"),
			)
			f.pageSize = 1
			return f
		}(), map[string]any{"name": "app.example.com."}, map[string]any{"blue": 20, "green": 80, "red": 0}, "A", ""},
		{"two types need type", zoneWith(
			weighted("app.example.com.", "A", "blue", 20, "blue-lb"),
			weighted("app.example.com.", "AAAA", "blue", 20, "blue-lb"),
		), map[string]any{"name": "app.example.com"}, nil, "", "types A and AAAA"},
		{"type picks one", zoneWith(
			weighted("app.example.com.", "A", "blue", 20, "blue-lb"),
			weighted("app.example.com.", "AAAA", "blue", 30, "blue-lb"),
		), map[string]any{"name": "app.example.com", "type": "AAAA"}, map[string]any{"blue": 30}, "AAAA", ""},
		{"none", zoneWith(simple("app.example.com.", "CNAME", "x")), map[string]any{"name": "app.example.com"}, nil, "", "no weighted CNAME, A or AAAA records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.params["zone"] = "/hostedzone/Z1"
			out, _, err := runStep(t, "aws.route53.get-weights", &r53GetWeights{api: c.zone}, c.params)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out["weights"], c.weights) || out["type"] != c.typ {
				t.Errorf("weights %v type %v, want %v %s", out["weights"], out["type"], c.weights, c.typ)
			}
		})
	}
}

func TestRoute53SetWeights(t *testing.T) {
	for _, typ := range []string{"CNAME", "A"} {
		t.Run(typ, func(t *testing.T) {
			f := zoneWith(
				weighted("app.example.com.", typ, "blue", 100, "blue-lb"),
				weighted("app.example.com.", typ, "green", 0, "green-lb"),
			)
			f.records[0].HealthCheckId = awssdk.String("hc-1")
			f.pending = 2
			out, undos, err := runStep(t, "aws.route53.set-weights", &r53SetWeights{api: f},
				map[string]any{"zone": "Z1", "name": "app.example.com", "weights": map[string]any{"blue": 90, "green": "10"}, "poll": "1ms"})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.batches) != 1 || len(f.batches[0]) != 2 {
				t.Fatalf("batches %v, want one batch of two changes", f.batches)
			}
			if f.getCalls != 3 {
				t.Errorf("GetChange called %d times, want 3 (two PENDING, then INSYNC)", f.getCalls)
			}
			if !reflect.DeepEqual(out["weights"], map[string]any{"blue": 90, "green": 10}) {
				t.Errorf("weights %v", out["weights"])
			}
			if awssdk.ToString(f.records[0].HealthCheckId) != "hc-1" || recordTarget(&f.records[0]) != "blue-lb" {
				t.Errorf("record fields other than the weight changed: %+v", f.records[0])
			}
			wantUndo := map[string]any{"zone": "Z1", "name": "app.example.com", "type": typ, "weights": map[string]any{"blue": 100, "green": 0}}
			if len(undos) != 1 || !reflect.DeepEqual(undos[0].Params, wantUndo) {
				t.Fatalf("undos %+v, want %v", undos, wantUndo)
			}
			if _, _, err := runStep(t, undos[0].Kind, &r53SetWeights{api: f}, undos[0].Params); err != nil {
				t.Fatal(err)
			}
			if awssdk.ToInt64(f.records[0].Weight) != 100 || awssdk.ToInt64(f.records[1].Weight) != 0 {
				t.Errorf("after undo: %d/%d", awssdk.ToInt64(f.records[0].Weight), awssdk.ToInt64(f.records[1].Weight))
			}
		})
	}
}

func TestRoute53SetWeightsRejects(t *testing.T) {
	cases := []struct {
		weights map[string]any
		want    string
	}{
		{map[string]any{"red": 10}, `no weighted CNAME record with SetIdentifier "red" (found: [blue green])`},
		{map[string]any{"blue": 256}, "from 0 to 255"},
	}
	for _, c := range cases {
		f := zoneWith(weighted("app.example.com.", "CNAME", "blue", 100, "b"), weighted("app.example.com.", "CNAME", "green", 0, "g"))
		_, undos, err := runStep(t, "aws.route53.set-weights", &r53SetWeights{api: f}, map[string]any{"zone": "Z1", "name": "app.example.com", "weights": c.weights})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
		if len(f.batches) != 0 || len(undos) != 0 {
			t.Error("changed despite the error")
		}
	}
}

func TestRoute53SetWeightsUnchanged(t *testing.T) {
	f := zoneWith(weighted("app.example.com.", "CNAME", "blue", 100, "b"), weighted("app.example.com.", "CNAME", "green", 0, "g"))
	out, undos, err := runStep(t, "aws.route53.set-weights", &r53SetWeights{api: f}, map[string]any{"zone": "Z1", "name": "app.example.com", "weights": map[string]any{"blue": 100}})
	if err != nil || out["changed"] != false || len(undos) != 0 || len(f.batches) != 0 {
		t.Fatalf("err %v changed %v undos %d batches %d", err, out["changed"], len(undos), len(f.batches))
	}
}

func TestRoute53HealthCheck(t *testing.T) {
	obs := func(status ...string) []r53types.HealthCheckObservation {
		var out []r53types.HealthCheckObservation
		for i, s := range status {
			out = append(out, r53types.HealthCheckObservation{Region: "us-east-1", IPAddress: awssdk.String(string(rune('a' + i))), StatusReport: &r53types.StatusReport{Status: awssdk.String(s)}})
		}
		return out
	}
	cases := []struct {
		obs     []r53types.HealthCheckObservation
		ok      int
		healthy bool
	}{
		{obs("Success: HTTP Status Code 200", "Success: HTTP Status Code 200", "Failure: Connection timed out"), 2, true},
		{obs("Failure: a", "Failure: b", "Failure: c", "Failure: d", "Failure: e", "Success: f"), 1, false},
		{[]r53types.HealthCheckObservation{}, 0, false},
	}
	for i, c := range cases {
		out, _, err := runStep(t, "aws.route53.health-check", &r53HealthCheck{api: &fakeR53{health: c.obs}}, map[string]any{"health_check": "hc-1"})
		if err != nil {
			t.Fatal(err)
		}
		if out["ok"] != c.ok || out["healthy"] != c.healthy || out["total"] != len(c.obs) {
			t.Errorf("case %d: %v", i, out)
		}
	}
	_, _, err := runStep(t, "aws.route53.health-check", &r53HealthCheck{api: &fakeR53{}}, map[string]any{"health_check": "hc-9"})
	if err == nil || !strings.Contains(err.Error(), "route53:GetHealthCheckStatus on health check hc-9") {
		t.Errorf("error %v", err)
	}
}

func TestRoute53GetRecord(t *testing.T) {
	f := zoneWith(
		simple("app.example.com.", "CNAME", "blue-lb.elb.amazonaws.com."),
		weighted("app.example.com.", "CNAME", "x", 1, "other"),
		simple("www.example.com.", "A", "green-lb.elb.amazonaws.com"),
	)
	out, _, err := runStep(t, "aws.route53.get-record", &r53GetRecord{api: f}, map[string]any{"zone": "Z1", "name": "app.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if out["target"] != "blue-lb.elb.amazonaws.com" || out["alias"] != false || out["ttl"] != 60 {
		t.Errorf("cname: %v", out)
	}
	out, _, err = runStep(t, "aws.route53.get-record", &r53GetRecord{api: f}, map[string]any{"zone": "Z1", "name": "www.example.com"})
	if err != nil || out["alias"] != true || out["alias_zone"] != "ZELB" || out["target"] != "green-lb.elb.amazonaws.com" {
		t.Errorf("alias: %v %v", out, err)
	}
	_, _, err = runStep(t, "aws.route53.get-record", &r53GetRecord{api: f}, map[string]any{"zone": "Z1", "name": "nope.example.com"})
	if err == nil || !strings.Contains(err.Error(), "nope.example.com in hosted zone Z1") {
		t.Errorf("error %v", err)
	}
}

func TestRoute53SetRecordsSwapsInOneBatch(t *testing.T) {
	f := zoneWith(
		simple("app.example.com.", "CNAME", "blue-lb"),
		simple("pre.example.com.", "CNAME", "green-lb"),
	)
	out, undos, err := runStep(t, "aws.route53.set-records", &r53SetRecords{api: f}, map[string]any{
		"zone": "Z1", "records": map[string]any{"app.example.com": "green-lb", "pre.example.com": "blue-lb", "new.example.com": "blue-lb"}, "poll": "1ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.batches) != 1 || len(f.batches[0]) != 3 {
		t.Fatalf("want one batch of 3 changes, got %v", f.batches)
	}
	if !reflect.DeepEqual(out["previous"], map[string]any{"app.example.com": "blue-lb", "pre.example.com": "green-lb", "new.example.com": ""}) {
		t.Errorf("previous %v", out["previous"])
	}
	wantUndo := map[string]any{"zone": "Z1", "type": "CNAME", "ttl": 60,
		"records": map[string]any{"app.example.com": "blue-lb", "pre.example.com": "green-lb"}, "delete": []any{"new.example.com"}}
	if len(undos) != 1 || !reflect.DeepEqual(undos[0].Params, wantUndo) {
		t.Fatalf("undo %+v, want %v", undos, wantUndo)
	}
	if _, _, err := runStep(t, undos[0].Kind, &r53SetRecords{api: f}, undos[0].Params); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range f.records {
		got = append(got, awssdk.ToString(f.records[i].Name)+"="+recordTarget(&f.records[i]))
	}
	if want := []string{"app.example.com.=blue-lb", "pre.example.com.=green-lb"}; !reflect.DeepEqual(got, want) {
		t.Errorf("after undo %v, want %v", got, want)
	}
}

func TestRoute53SetRecordsAlias(t *testing.T) {
	f := zoneWith(simple("app.example.com.", "A", "blue-lb"), simple("pre.example.com.", "A", "green-lb"))
	_, undos, err := runStep(t, "aws.route53.set-records", &r53SetRecords{api: f}, map[string]any{
		"zone": "Z1", "type": "A", "records": map[string]any{"app.example.com": "green-lb", "pre.example.com": "blue-lb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range f.records {
		if rs.AliasTarget == nil || awssdk.ToString(rs.AliasTarget.HostedZoneId) != "ZELB" || rs.TTL != nil {
			t.Errorf("alias record %+v: must keep the existing alias zone and carry no TTL", rs)
		}
	}
	if undos[0].Params["alias_zone"] != "ZELB" {
		t.Errorf("undo %v lacks the alias zone", undos[0].Params)
	}
	// A new alias record without any zone to copy is refused before anything changes.
	_, _, err = runStep(t, "aws.route53.set-records", &r53SetRecords{api: f}, map[string]any{"zone": "Z1", "type": "A", "records": map[string]any{"x.example.com": "lb"}})
	if err == nil || !strings.Contains(err.Error(), `needs the param "alias_zone"`) || len(f.batches) != 1 {
		t.Errorf("error %v, batches %d", err, len(f.batches))
	}
}
