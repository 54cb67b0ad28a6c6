package servicemsg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// flushCounter records how often the writer flushed and what was written
// before each flush.
type flushCounter struct {
	bytes.Buffer
	flushedAt []int
}

func (f *flushCounter) Flush() error { f.flushedAt = append(f.flushedAt, f.Len()); return nil }

func TestServiceMessagesRoundTrip(t *testing.T) {
	tricky := "it's ]'\n##octopus[setVariable name='x']\tünïcödé 🟦"
	var out flushCounter
	w := NewWriter(&out)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.SetVariable("BlueGreen.Live", "green", false))
	must(w.SetVariable("Secret", tricky, true))
	must(w.CreateArtifact("/tmp/report.json", "report.json", 42))
	must(w.ResultMessage(tricky))
	must(w.Warning("gate retried\n##octopus[resultMessage message='eA==']"))

	msgs, err := Decode(strings.NewReader(out.String()))
	must(err)
	want := []Message{
		{"setVariable", map[string]string{"name": "BlueGreen.Live", "value": "green"}},
		{"setVariable", map[string]string{"name": "Secret", "value": tricky, "sensitive": "True"}},
		{"createArtifact", map[string]string{"path": "/tmp/report.json", "name": "report.json", "length": "42"}},
		{"resultMessage", map[string]string{"message": tricky}},
		{"stdout-warning", map[string]string{}},
		// The warning's text held a service message; it must not come
		// through as one.
		{"stdout-default", map[string]string{}},
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("decoded:\n%v\nwant:\n%v", msgs, want)
	}
	// One flush per message, each after a complete line.
	if len(out.flushedAt) != 5 {
		t.Errorf("%d flushes, want 5", len(out.flushedAt))
	}
	for _, n := range out.flushedAt {
		if out.String()[n-1] != '\n' {
			t.Errorf("flushed mid-line at byte %d", n)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.Contains(line, "##octopus") && !strings.HasPrefix(line, "##octopus[") {
			t.Errorf("a text line carries a service message: %q", line)
		}
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
		want Message
	}{
		{"##octopus[setVariable name='YQ==' value='Yg==']", true, Message{"setVariable", map[string]string{"name": "a", "value": "b"}}},
		{"prefix text ##octopus[resultMessage message='aGk=']", true, Message{"resultMessage", map[string]string{"message": "hi"}}},
		{"##octopus[stdout-default]", true, Message{"stdout-default", map[string]string{}}},
		{"##octopus[setVariable name='not base64!']", false, Message{}},
		{"##octopus[setVariable name='YQ==' value='Yg==", false, Message{}},
		{"plain log line", false, Message{}},
	}
	for _, tt := range tests {
		got, ok := ParseLine(tt.line)
		if ok != tt.ok || (ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseLine(%q) = %v, %v; want %v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestReporter(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.json")
	if err := os.WriteFile(report, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	r := NewReporter(&out)
	events := []Event{
		{Kind: RunStarted, RunID: "r1", Live: "blue", Idle: "green"},
		{Kind: StepFinished, StepID: "idle-healthy", Outputs: steps.Outputs{"healthy": 3, "weights": []any{10, 90}}, Sensitive: steps.Outputs{"token": "t0k"}},
		{Kind: StepFinished, Outputs: steps.Outputs{"healthy": 1}}, // no id: nothing to refer to
		{Kind: Warning, Message: "gate idle-healthy: poll 2 failed"},
		{Kind: RunFinished, RunID: "r1", Live: "green", Idle: "blue", Err: errors.New("shift: 5xx above 5"), ReportPath: report},
	}
	for _, e := range events {
		if err := r.Handle(e); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := Decode(&out)
	if err != nil {
		t.Fatal(err)
	}
	vals, sens := Variables(msgs)
	wantVals := map[string]string{
		VarRunID: "r1", VarLive: "green", VarIdle: "blue",
		"BlueGreen.Steps.idle-healthy.healthy": "3",
		"BlueGreen.Steps.idle-healthy.token":   "t0k",
		"BlueGreen.Steps.idle-healthy.weights": "[10, 90]",
	}
	if !reflect.DeepEqual(vals, wantVals) {
		t.Errorf("variables %v, want %v", vals, wantVals)
	}
	for name, s := range sens {
		if s != (name == "BlueGreen.Steps.idle-healthy.token") {
			t.Errorf("%s sensitive = %v", name, s)
		}
	}
	var kinds []string
	for _, m := range msgs {
		switch m.Name {
		case "createArtifact":
			if m.Attrs["path"] != report || m.Attrs["name"] != "report.json" || m.Attrs["length"] != "3" {
				t.Errorf("artifact %v", m)
			}
		case "resultMessage":
			if m.Attrs["message"] != "shift: 5xx above 5" {
				t.Errorf("result %v", m)
			}
		}
		kinds = append(kinds, m.Name)
	}
	for _, k := range []string{"stdout-warning", "createArtifact", "resultMessage"} {
		if !strings.Contains(strings.Join(kinds, " "), k) {
			t.Errorf("no %s message in %v", k, kinds)
		}
	}

	// A single step names its outputs plainly.
	out.Reset()
	single := NewReporter(&out)
	single.SingleStep = true
	if err := single.Handle(Event{Kind: StepFinished, Outputs: steps.Outputs{"healthy": 2}}); err != nil {
		t.Fatal(err)
	}
	msgs, _ = Decode(&out)
	if vals, _ := Variables(msgs); vals["healthy"] != "2" || len(vals) != 1 {
		t.Errorf("single step variables %v", vals)
	}
}
