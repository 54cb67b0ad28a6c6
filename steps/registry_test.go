package steps

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// validSpec returns a spec that registers; tests break one thing at a time.
func validSpec(kind string) Spec {
	return Spec{
		Kind:    kind,
		Title:   "Do a thing",
		Summary: "Does a thing.",
		Params: []Param{
			{Name: "target", Type: String, Required: true, Doc: "What to act on."},
			{Name: "mode", Type: String, Default: "fast", Enum: []string{"fast", "slow"}, Doc: "How."},
			{Name: "wait", Type: Duration, Default: 30 * time.Second, Doc: "How long."},
		},
		Outputs: []Output{{Name: "done", Type: Bool, Doc: "Whether it was done."}},
		New: func() Step {
			return StepFunc(func(context.Context, *Call) (Outputs, error) { return nil, nil })
		},
	}
}

func TestRegisterRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*Spec)
		want   string
	}{
		{"empty kind", func(s *Spec) { s.Kind = "" }, "empty kind"},
		{"one segment", func(s *Spec) { s.Kind = "pause" }, "dotted"},
		{"upper case", func(s *Spec) { s.Kind = "Flow.Pause" }, "dotted"},
		{"empty segment", func(s *Spec) { s.Kind = "flow..pause" }, "dotted"},
		{"trailing dot", func(s *Spec) { s.Kind = "flow.pause." }, "dotted"},
		{"underscore", func(s *Spec) { s.Kind = "flow.set_weights" }, "dotted"},
		{"digit first", func(s *Spec) { s.Kind = "flow.1pause" }, "dotted"},
		{"no title", func(s *Spec) { s.Title = "" }, "title"},
		{"no summary", func(s *Spec) { s.Summary = "" }, "summary"},
		{"no New", func(s *Spec) { s.New = nil }, "New"},
		{"param name case", func(s *Spec) { s.Params[0].Name = "Target" }, "lower_snake_case"},
		{"param name dash", func(s *Spec) { s.Params[0].Name = "target-group" }, "lower_snake_case"},
		{"param twice", func(s *Spec) { s.Params[1].Name = "target" }, "declared twice"},
		{"param without doc", func(s *Spec) { s.Params[0].Doc = "" }, "doc is required"},
		{"param type", func(s *Spec) { s.Params[0].Type = "text" }, "invalid type"},
		{"param type any", func(s *Spec) { s.Params[0].Type = Any }, "invalid type"},
		{"required with default", func(s *Spec) { s.Params[0].Default = "x" }, "required with a default"},
		{"enum on int", func(s *Spec) { s.Params[1].Type = Int; s.Params[1].Default = nil }, "enum needs type string"},
		{"default of the wrong Go type", func(s *Spec) { s.Params[2].Default = "30s" }, "want time.Duration"},
		{"int default as int64", func(s *Spec) { s.Params[2] = Param{Name: "n", Type: Int, Default: int64(3), Doc: "n"} }, "want int"},
		{"default outside enum", func(s *Spec) { s.Params[1].Default = "medium" }, "not in enum"},
		{"output name", func(s *Spec) { s.Outputs[0].Name = "Done" }, "lower_snake_case"},
		{"output twice", func(s *Spec) { s.Outputs = append(s.Outputs, s.Outputs[0]) }, "declared twice"},
		{"output without type", func(s *Spec) { s.Outputs[0].Type = "" }, "type is required"},
		{"traffic names no output", func(s *Spec) { s.Traffic = "weights" }, "traffic \"weights\""},
		{"traffic names a bool output", func(s *Spec) { s.Traffic = "done" }, "map, string or int output"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec("test.thing")
			tc.break_(&s)
			msg := registerPanic(NewRegistry(), s)
			if msg == "" {
				t.Fatal("Register did not panic")
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("panic %q does not mention %q", msg, tc.want)
			}
		})
	}
}

func registerPanic(r *Registry, s Spec) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg, _ = v.(string)
			if msg == "" {
				msg = "non-string panic"
			}
		}
	}()
	r.Register(s)
	return ""
}

func TestRegisterDuplicate(t *testing.T) {
	r := NewRegistry()
	if msg := registerPanic(r, validSpec("test.thing")); msg != "" {
		t.Fatalf("valid spec: %s", msg)
	}
	if msg := registerPanic(r, validSpec("test.thing")); !strings.Contains(msg, "already registered") {
		t.Errorf("duplicate kind: panic %q, want one saying it is already registered", msg)
	}
	// Another registry is independent: the same kind registers there.
	if msg := registerPanic(NewRegistry(), validSpec("test.thing")); msg != "" {
		t.Errorf("isolated registry: %s", msg)
	}
}

func TestRegisterCopiesSpec(t *testing.T) {
	r := NewRegistry()
	s := validSpec("test.thing")
	r.Register(s)
	s.Title = "changed after registering"
	got, _ := r.Lookup("test.thing")
	if got.Title != "Do a thing" {
		t.Errorf("the registry shares the caller's spec: title %q", got.Title)
	}
}

func TestListingSorted(t *testing.T) {
	r := NewRegistry()
	kinds := []string{"flow.pause", "aws.route53.set-weights", "host.exec", "aws.asg.scale", "aws.asg-x.scale", "flow.log"}
	for _, k := range kinds {
		r.Register(validSpec(k))
	}
	want := []string{"aws.asg-x.scale", "aws.asg.scale", "aws.route53.set-weights", "flow.log", "flow.pause", "host.exec"}
	if got := r.Kinds(); !reflect.DeepEqual(got, want) {
		t.Errorf("Kinds() = %v, want %v", got, want)
	}
	all := r.All()
	for i, s := range all {
		if s.Kind != want[i] {
			t.Errorf("All()[%d] = %s, want %s", i, s.Kind, want[i])
		}
	}
	if s, ok := r.Lookup("host.exec"); !ok || s.Kind != "host.exec" {
		t.Errorf("Lookup(host.exec) = %v, %v", s, ok)
	}
	if _, ok := r.Lookup("host.nope"); ok {
		t.Error("Lookup of an unknown kind succeeded")
	}
	if got := NewRegistry().Kinds(); len(got) != 0 {
		t.Errorf("a new registry lists %v", got)
	}
}

func TestSpecLookups(t *testing.T) {
	s := validSpec("test.thing")
	if p := s.Param("mode"); p == nil || p.Default != "fast" {
		t.Errorf("Param(mode) = %+v", p)
	}
	if s.Param("nope") != nil || s.Output("nope") != nil {
		t.Error("lookup of an undeclared name returned something")
	}
	if o := s.Output("done"); o == nil || o.Type != Bool {
		t.Errorf("Output(done) = %+v", o)
	}
	if got := s.ParamNames(); !reflect.DeepEqual(got, []string{"target", "mode", "wait"}) {
		t.Errorf("ParamNames() = %v", got)
	}
}
