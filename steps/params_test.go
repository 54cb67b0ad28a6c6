package steps

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCoerce(t *testing.T) {
	for _, tc := range []struct {
		t, items Type
		in       any
		want     any
		wantErr  string
	}{
		// Strings: every scalar is accepted and formatted as a runbook writes it.
		{String, "", "web-green", "web-green", ""},
		{String, "", 3, "3", ""},
		{String, "", 2.0, "2", ""},
		{String, "", true, "true", ""},
		{String, "", 90 * time.Second, "1m30s", ""},
		{String, "", []any{"a"}, nil, "expected a string, found a list"},
		// Ints: YAML, JSON (float64) and command-line text.
		{Int, "", 3, 3, ""},
		{Int, "", int64(3), 3, ""},
		{Int, "", 3.0, 3, ""},
		{Int, "", "42", 42, ""},
		{Int, "", " 42 ", 42, ""},
		{Int, "", 3.5, nil, "expected an integer, found 3.5"},
		{Int, "", "3.5", nil, `expected an integer, found "3.5"`},
		{Int, "", "three", nil, `expected an integer, found "three"`},
		{Int, "", float64(1 << 60), nil, "expected an integer"},
		{Int, "", true, nil, "expected an integer, found a bool"},
		// Numbers.
		{Number, "", 1.5, 1.5, ""},
		{Number, "", 2, 2.0, ""},
		{Number, "", "0.25", 0.25, ""},
		{Number, "", "NaN-ish", nil, "expected a number"},
		// Bools: Octopus checkboxes say True/False.
		{Bool, "", true, true, ""},
		{Bool, "", "True", true, ""},
		{Bool, "", "yes", true, ""},
		{Bool, "", "on", true, ""},
		{Bool, "", "1", true, ""},
		{Bool, "", "False", false, ""},
		{Bool, "", "off", false, ""},
		{Bool, "", "", false, ""},
		{Bool, "", "maybe", nil, `expected a bool (true or false), found "maybe"`},
		{Bool, "", 1, nil, "expected a bool, found an integer"},
		// Durations.
		{Duration, "", "90s", 90 * time.Second, ""},
		{Duration, "", " 1h30m ", 90 * time.Minute, ""},
		{Duration, "", 2 * time.Minute, 2 * time.Minute, ""},
		{Duration, "", 0, time.Duration(0), ""},
		{Duration, "", 30, nil, "add a unit"},
		{Duration, "", "-5s", nil, "not negative"},
		{Duration, "", "soon", nil, `expected a duration such as 30s or 5m, found "soon"`},
		// Lists, with typed items, from YAML values and from flow-style text.
		{List, Int, []any{10, 50.0, "100"}, []any{10, 50, 100}, ""},
		{List, Int, "[10, 50, 100]", []any{10, 50, 100}, ""},
		{List, String, []string{"a", "b"}, []any{"a", "b"}, ""},
		{List, String, []int{1, 2}, []any{"1", "2"}, ""},
		{List, "", "[a, 1, true]", []any{"a", 1, true}, ""},
		{List, Int, []any{1, "x"}, nil, `item 1: expected an integer, found "x"`},
		{List, "", "a, b", nil, "expected a list such as [a, b]"},
		{List, "", "[unclosed", nil, "expected a list"},
		{List, "", 5, nil, "expected a list, found an integer"},
		// Maps.
		{Map, Int, map[string]any{"blue": 90, "green": "10"}, map[string]any{"blue": 90, "green": 10}, ""},
		{Map, Int, "{blue: 90, green: 10}", map[string]any{"blue": 90, "green": 10}, ""},
		{Map, String, map[string]string{"A": "1"}, map[string]any{"A": "1"}, ""},
		{Map, String, map[string]any{"PORT": 8080}, map[string]any{"PORT": "8080"}, ""},
		{Map, "", "{a: {b: [1, 2]}}", map[string]any{"a": map[string]any{"b": []any{1, 2}}}, ""},
		{Map, Int, map[string]any{"blue": "x"}, nil, `key "blue": expected an integer`},
		{Map, "", "[1]", nil, "expected a map such as {a: 1}"},
		// Any keeps the value, normalized.
		{Any, "", int64(7), 7, ""},
		{Any, "", map[any]any{1: "x"}, map[string]any{"1": "x"}, ""},
		{"nonsense", "", "x", nil, `unknown type "nonsense"`},
	} {
		got, err := Coerce(tc.t, tc.items, tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Coerce(%s, %s, %#v) = %#v, %v; want error containing %q", tc.t, tc.items, tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Coerce(%s, %s, %#v) = %#v, %v; want %#v", tc.t, tc.items, tc.in, got, err, tc.want)
		}
	}
}

// bindSpec has one param of every kind Bind treats differently.
func bindSpec() Spec {
	s := validSpec("test.bind")
	s.Params = []Param{
		{Name: "group", Type: String, Required: true, Doc: "Group."},
		{Name: "desired", Type: Int, Doc: "Desired."},
		{Name: "mode", Type: String, Default: "rolling", Enum: []string{"rolling", "all-at-once"}, Doc: "Mode."},
		{Name: "timeout", Type: Duration, Default: 5 * time.Minute, Doc: "Timeout."},
		{Name: "weights", Type: Map, Items: Int, Doc: "Weights."},
		{Name: "wait", Type: Bool, Default: true, Doc: "Wait."},
		{Name: "api_key", Type: String, Sensitive: true, Doc: "Key."},
		{Name: "pin", Type: Int, Sensitive: true, Doc: "A sensitive number."},
		{Name: "tier", Type: String, Sensitive: true, Enum: []string{"gold", "silver"}, Doc: "A sensitive choice."},
	}
	return s
}

func TestBind(t *testing.T) {
	s := bindSpec()
	for _, tc := range []struct {
		name     string
		raw      map[string]any
		want     Params
		wantErrs []string // "param: message fragment"
	}{
		{
			name: "defaults fill what is not given",
			raw:  map[string]any{"group": "web-green"},
			want: Params{"group": "web-green", "mode": "rolling", "timeout": 5 * time.Minute, "wait": true},
		},
		{
			name: "typed values from YAML",
			raw:  map[string]any{"group": "g", "desired": 3, "mode": "all-at-once", "timeout": 90 * time.Second, "weights": map[string]any{"blue": 0, "green": 100}, "wait": false},
			want: Params{"group": "g", "desired": 3, "mode": "all-at-once", "timeout": 90 * time.Second, "weights": map[string]any{"blue": 0, "green": 100}, "wait": false},
		},
		{
			name: "text from the command line or Octopus",
			raw:  map[string]any{"group": "g", "desired": "3", "timeout": "2m", "weights": "{blue: 10, green: 90}", "wait": "False"},
			want: Params{"group": "g", "desired": 3, "mode": "rolling", "timeout": 2 * time.Minute, "weights": map[string]any{"blue": 10, "green": 90}, "wait": false},
		},
		{
			name: "null counts as not given",
			raw:  map[string]any{"group": "g", "desired": nil, "mode": nil},
			want: Params{"group": "g", "mode": "rolling", "timeout": 5 * time.Minute, "wait": true},
		},
		{
			name:     "every problem is reported",
			raw:      map[string]any{"desired": "many", "mode": "yolo", "timeout": "soon", "colour": "blue", "extra": 1},
			wantErrs: []string{"colour: unknown param for test.bind (expected one of: group, desired,", "extra: unknown param", "group: required param is missing", "desired: expected an integer", `mode: expected one of rolling, all-at-once, found "yolo"`, "timeout: expected a duration"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := s.Bind(tc.raw)
			if len(errs) != len(tc.wantErrs) {
				t.Fatalf("Bind errors = %v; want %d: %v", errs, len(tc.wantErrs), tc.wantErrs)
			}
			for i, want := range tc.wantErrs {
				param, frag, _ := strings.Cut(want, ": ")
				if errs[i].Param != param || !strings.Contains(errs[i].Msg, frag) {
					t.Errorf("error %d = %v; want param %q with %q", i, errs[i], param, frag)
				}
			}
			if tc.wantErrs == nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Bind = %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestBindNeverLeaksSensitiveValues(t *testing.T) {
	s := bindSpec()
	const secret = "hunter2-secret"
	_, errs := s.Bind(map[string]any{"group": "g", "api_key": secret, "pin": secret, "tier": secret})
	if len(errs) != 2 {
		t.Fatalf("Bind errors = %v; want one for pin and one for tier", errs)
	}
	for _, e := range errs {
		if strings.Contains(e.Error(), secret) || strings.Contains(e.Error(), "hunter2") {
			t.Errorf("error for sensitive param %s shows the value: %v", e.Param, e)
		}
	}
	got, _ := s.Bind(map[string]any{"group": "g", "api_key": secret})
	red := s.Redacted(got)
	if red["api_key"] != Redaction || red["group"] != "g" {
		t.Errorf("Redacted = %v; want api_key hidden and group kept", red)
	}
	if got["api_key"] != secret {
		t.Errorf("Redacted changed the params it was given: %v", got)
	}
}

func TestParamsAccessors(t *testing.T) {
	p := Params{
		"s": "x", "i": 3, "n": 1.5, "b": true, "d": time.Second,
		"l": []any{1, "a", 2.5}, "m": map[string]any{"a": 1, "b": []any{"x"}},
	}
	if p.String("s") != "x" || p.Int("i") != 3 || p.Number("n") != 1.5 || !p.Bool("b") || p.Duration("d") != time.Second {
		t.Errorf("scalar accessors returned the wrong values")
	}
	if !p.Has("s") || p.Has("missing") {
		t.Error("Has is wrong")
	}
	if got := p.Strings("l"); !reflect.DeepEqual(got, []string{"1", "a", "2.5"}) {
		t.Errorf("Strings(l) = %q", got)
	}
	if got := p.StringMap("m"); !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "[x]"}) {
		t.Errorf("StringMap(m) = %q", got)
	}
	// Missing or mistyped params read as zero values, never panic.
	if p.String("i") != "" || p.Int("s") != 0 || p.List("m") != nil || p.Map("l") != nil || p.Strings("x") != nil || p.StringMap("x") != nil {
		t.Error("accessors of missing or mistyped params did not return zero values")
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{nil, ""},
		{"text", "text"},
		{7, "7"},
		{3.0, "3"},
		{2.5, "2.5"},
		{-0.125, "-0.125"},
		{1e20, "1e+20"},
		{math.Inf(1), "+Inf"},
		{true, "true"},
		{90 * time.Second, "1m30s"},
		{[]any{10, 50, 100}, "[10, 50, 100]"},
		{[]any{}, "[]"},
		{map[string]any{"green": 10, "blue": 90}, "{blue: 90, green: 10}"},
		{map[string]any{"a": []any{"x y", "${{ z }}"}}, `{a: [x y, '${{ z }}']}`},
	} {
		if got := FormatValue(tc.in); got != tc.want {
			t.Errorf("FormatValue(%#v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFormatValueRoundTrips checks that formatted lists and maps coerce back
// to the same value, as they must when they pass through the command line
// or an Octopus variable.
func TestFormatValueRoundTrips(t *testing.T) {
	for _, tc := range []struct {
		t, items Type
		v        any
	}{
		{List, Int, []any{10, 50, 100}},
		{List, String, []any{"a b", "c:d", "e, f"}},
		{Map, Int, map[string]any{"blue": 90, "green": 10}},
		{Map, "", map[string]any{"nested": map[string]any{"k": []any{"v"}}}},
		{Duration, "", 150 * time.Second},
		{Number, "", 0.1},
	} {
		back, err := Coerce(tc.t, tc.items, FormatValue(tc.v))
		if err != nil || !reflect.DeepEqual(back, tc.v) {
			t.Errorf("Coerce(FormatValue(%#v)) = %#v, %v", tc.v, back, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"0s": 0, "1m": time.Minute, " 2h ": 2 * time.Hour, "1.5s": 1500 * time.Millisecond} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "5", "-1s", "1 minute"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) returned no error", in)
		}
	}
}

func TestDescribeAndTypeOf(t *testing.T) {
	for typ, want := range map[Type]string{Int: "an integer", Duration: "a duration", Any: "any value", List: "a list", String: "a string"} {
		if got := Describe(typ); got != want {
			t.Errorf("Describe(%s) = %q, want %q", typ, got, want)
		}
	}
	for _, tc := range []struct {
		v    any
		want string
	}{{nil, "null"}, {"", "a string"}, {1, "an integer"}, {1.0, "a number"}, {false, "a bool"}, {time.Second, "a duration"}, {[]any{}, "a list"}, {map[string]any{}, "a map"}, {struct{}{}, "struct {}"}} {
		if got := TypeOf(tc.v); got != tc.want {
			t.Errorf("TypeOf(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// FuzzCoerce feeds arbitrary text, as the command line and Octopus hand it
// over, to every type: Coerce must return a value of the type's Go type or
// an error, never panic.
func FuzzCoerce(f *testing.F) {
	for _, s := range []string{"", "3", "1.5", "true", "90s", "[10, 50]", "{a: 1}", "{a: [", "- x\n- y", "&a [*a]", "!!binary x", "1e400", "-0"} {
		f.Add(s)
	}
	types := []Type{String, Int, Number, Bool, Duration, List, Map, Any}
	f.Fuzz(func(t *testing.T, s string) {
		for _, typ := range types {
			for _, items := range []Type{"", Int, String} {
				v, err := Coerce(typ, items, s)
				if err != nil {
					continue
				}
				if typ != Any {
					if cerr := checkGoType(typ, v); cerr != nil {
						t.Fatalf("Coerce(%s, %s, %q) = %#v: %v", typ, items, s, v, cerr)
					}
				}
				_ = FormatValue(v)
			}
		}
	})
}
