package steps

import (
	"strings"
	"testing"
	"time"
)

func ruleSpec() Spec {
	return Spec{
		Kind: "test.rules", Title: "Rules", Summary: "Has rules.",
		Params: []Param{
			{Name: "listener", Type: String, Doc: "Listener."},
			{Name: "rule", Type: String, Doc: "Rule."},
			{Name: "weights", Type: Map, Items: Int, Doc: "Weights."},
			{Name: "period", Type: Duration, Doc: "Period.", Default: time.Minute},
			{Name: "stat", Type: String, Doc: "Stat."},
			{Name: "mode", Type: String, Doc: "Mode.", Default: "file"},
			{Name: "file", Type: String, Doc: "File."},
			{Name: "min", Type: Int, Doc: "Min."},
			{Name: "max", Type: Int, Doc: "Max."},
		},
		Rules: []Rule{
			ExactlyOneOf("listener", "rule"),
			Between("weights", 0, 999),
			Length("weights", 1, 5),
			DurationIn("period", []time.Duration{time.Second, 5 * time.Second}, time.Minute),
			Matches("stat", `^(Sum|p[0-9]{1,2})$`, "Sum or a percentile"),
			RequiredWhen("mode", "file", "file"),
			NotAbove("min", "max"),
		},
		New: func() Step { return StepFunc(nil) },
	}
}

// TestBindChecksRules: resolved values (from the journal, the command line
// or interpolation) are held to the same rules as literals.
func TestBindChecksRules(t *testing.T) {
	s := ruleSpec()
	cases := []struct {
		raw  map[string]any
		want []string
	}{
		{map[string]any{"listener": "l", "file": "f", "weights": map[string]any{"a": 1}}, nil},
		{map[string]any{"rule": "r", "file": "f", "weights": map[string]any{"a": 1}, "period": "2m", "stat": "p99", "min": 1, "max": 2}, nil},
		{map[string]any{"file": "f"}, []string{`param "listener": one of "listener" or "rule" is required`}},
		{map[string]any{"listener": "", "rule": "r", "file": "f"}, nil},
		{map[string]any{"listener": "l", "rule": "r", "file": "f"}, []string{`param "rule": give only one of "listener" or "rule", found "listener" and "rule"`}},
		{map[string]any{"listener": "l", "file": "f", "weights": map[string]any{"a": 1000, "b": -5, "c": 999}},
			[]string{`value of "a": expected a number from 0 to 999, found 1000`, `value of "b": expected a number from 0 to 999, found -5`}},
		{map[string]any{"listener": "l", "file": "f", "weights": map[string]any{}}, []string{`expected 1 to 5 items, found 0`}},
		{map[string]any{"listener": "l", "file": "f", "period": "7s"}, []string{`expected 1s, 5s or a multiple of 60s, found 7s`}},
		{map[string]any{"listener": "l", "file": "f", "period": "90s"}, []string{`found 1m30s`}},
		{map[string]any{"listener": "l", "file": "f", "stat": "Bogus"}, []string{`expected Sum or a percentile, found "Bogus"`}},
		{map[string]any{"listener": "l"}, []string{`param "file": required when "mode" is file`}},
		{map[string]any{"listener": "l", "mode": "none"}, nil},
		{map[string]any{"listener": "l", "file": "f", "min": 3, "max": 2}, []string{`param "min": 3 is above "max" (2)`}},
	}
	for i, c := range cases {
		_, errs := s.Bind(c.raw)
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		if len(got) != len(c.want) {
			t.Errorf("case %d: got %q, want %d problems %q", i, got, len(c.want), c.want)
			continue
		}
		for j, w := range c.want {
			if !strings.Contains(got[j], w) {
				t.Errorf("case %d: problem %d = %q, want it to contain %q", i, j, got[j], w)
			}
		}
	}
}

// TestRulesUnknownValues: before a run, a param written as an expression
// may be given or not; only what is certain is an error.
func TestRulesUnknownValues(t *testing.T) {
	s := ruleSpec()
	if errs := s.CheckRules(Params{"rule": "r", "file": "f"}, map[string]bool{"listener": true}); len(errs) != 0 {
		t.Errorf("expression for listener next to rule: %v", errs)
	}
	if errs := s.CheckRules(Params{"file": "f"}, map[string]bool{"rule": true}); len(errs) != 0 {
		t.Errorf("expression for rule alone: %v", errs)
	}
	// A map with some items known: those are checked, its length is not.
	errs := s.CheckRules(Params{"listener": "l", "file": "f", "weights": map[string]any{"x": 1000}}, map[string]bool{"weights": true})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "found 1000") {
		t.Errorf("partial map: %v", errs)
	}
}

func TestRuleDeclarationsChecked(t *testing.T) {
	for _, r := range []Rule{Between("listener", 0, 1), Matches("weights", "x", "x"), ExactlyOneOf("nope", "rule"), NotAbove("listener", "rule"), DurationIn("min", nil, time.Minute)} {
		s := ruleSpec()
		s.Rules = []Rule{r}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("rule %q registered without a panic", r.Doc())
				}
			}()
			NewRegistry().Register(s)
		}()
	}
}

// TestInsideExcludesBounds: an open range refuses its bounds, says so in
// its doc and gives JSON Schema's exclusive keywords.
func TestInsideExcludesBounds(t *testing.T) {
	s := Spec{Kind: "test.inside", Title: "Inside", Summary: "Has an open range.",
		Params: []Param{{Name: "alpha", Type: Number, Doc: "Alpha."}},
		Rules:  []Rule{Inside("alpha", 0, 1)},
		New:    func() Step { return StepFunc(nil) }}
	for v, want := range map[float64]string{0: "found 0", 1: "found 1", -0.5: "found -0.5", 0.05: "", 0.999: ""} {
		_, errs := s.Bind(map[string]any{"alpha": v})
		switch {
		case want == "" && len(errs) != 0:
			t.Errorf("alpha %g: unexpected %v", v, errs)
		case want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), "expected a number above 0 and below 1, "+want)):
			t.Errorf("alpha %g: got %v, want %q", v, errs, want)
		}
	}
	if d := s.Rules[0].Doc(); d != "`alpha`: above 0 and below 1." {
		t.Errorf("doc %q", d)
	}
	if v := s.Rules[0].Schema(&s).Value; v["exclusiveMinimum"] != 0.0 || v["exclusiveMaximum"] != 1.0 || v["minimum"] != nil {
		t.Errorf("schema %v", v)
	}
}

// TestMatchesRefusesGoOnlySyntax: rule patterns go into the JSON Schema,
// whose editors read them as ECMAScript, so syntax only Go has is refused
// when the spec is declared; the case-insensitive URL pattern the Octopus
// and host kinds use is written without an inline flag and still matches
// either case.
func TestMatchesRefusesGoOnlySyntax(t *testing.T) {
	for _, p := range []string{`^(?i)https?://`, `(?P<x>a)`, `a\z`, `\Aa`, `[[:alpha:]]`, `(?s).`} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Matches(%q) did not panic", p)
				}
			}()
			Matches("p", p, "anything")
		}()
	}
	r := Matches("server", `^[Hh][Tt][Tt][Pp][Ss]?://\S+$`, "an http:// or https:// URL")
	for _, v := range []string{"https://octopus.example.com", "HTTP://octopus"} {
		if !r.re.MatchString(v) {
			t.Errorf("%q does not match the URL pattern", v)
		}
	}
	if r.re.MatchString("ftp://x") {
		t.Error("ftp:// matches the URL pattern")
	}
}
