package steps

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// This file converts values between the forms they come in (YAML, JSON,
// the command line, the journal) and the types params declare, and
// renders them as a runbook writes them.

// Coerce converts v to type t (items: element type for lists and maps). It
// accepts the natural Go types, the numeric types YAML and JSON produce, and
// strings, which it parses. A sensitive value never appears in the error.
func Coerce(t, items Type, v any) (any, error) {
	switch t {
	case "", Any:
		return normalize(v), nil
	case String:
		switch x := v.(type) {
		case string:
			return x, nil
		case int, int64, float64, bool, time.Duration:
			return FormatValue(x), nil
		}
	case Int:
		switch x := v.(type) {
		case int:
			return x, nil
		case int64:
			return int(x), nil
		case int32:
			return int(x), nil
		case uint64:
			if x <= math.MaxInt64 {
				return int(x), nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int(x), nil
			}
			return nil, fmt.Errorf("expected an integer, found %v", x)
		case string:
			i, err := strconv.Atoi(strings.TrimSpace(x))
			if err != nil {
				return nil, fmt.Errorf("expected an integer, found %q", x)
			}
			return i, nil
		}
	case Number:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("expected a number, found %q", x)
			}
			return f, nil
		}
	case Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true", "yes", "1", "on":
				return true, nil
			case "false", "no", "0", "off", "":
				return false, nil
			}
			return nil, fmt.Errorf("expected a bool (true or false), found %q", x)
		}
	case Duration:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case string:
			d, err := ParseDuration(x)
			if err != nil {
				return nil, err
			}
			return d, nil
		case int:
			if x == 0 {
				return time.Duration(0), nil
			}
			return nil, fmt.Errorf("expected a duration such as 30s or 5m, found the number %d (add a unit)", x)
		}
	case List:
		switch x := v.(type) {
		case []any:
			return coerceItems(items, x)
		case []string:
			return coerceItems(items, x)
		case []int:
			return coerceItems(items, x)
		case string:
			parsed, err := parseFlow(x)
			if err != nil {
				return nil, fmt.Errorf("expected a list, found %q", x)
			}
			if _, ok := parsed.([]any); !ok {
				return nil, fmt.Errorf("expected a list such as [a, b], found %q", x)
			}
			return Coerce(t, items, parsed)
		}
	case Map:
		switch x := v.(type) {
		case map[string]any:
			// Keys in order, so the same value always reports the same
			// problem first.
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out := make(map[string]any, len(x))
			for _, k := range keys {
				ce, err := Coerce(items, "", x[k])
				if err != nil {
					return nil, fmt.Errorf("key %q: %v", k, err)
				}
				out[k] = ce
			}
			return out, nil
		case map[string]string:
			m := make(map[string]any, len(x))
			for k, e := range x {
				m[k] = e
			}
			return Coerce(t, items, m)
		case string:
			parsed, err := parseFlow(x)
			if err != nil {
				return nil, fmt.Errorf("expected a map, found %q", x)
			}
			if _, ok := parsed.(map[string]any); !ok {
				return nil, fmt.Errorf("expected a map such as {a: 1}, found %q", x)
			}
			return Coerce(t, items, parsed)
		}
	default:
		return nil, fmt.Errorf("unknown type %q", t)
	}
	return nil, fmt.Errorf("expected %s, found %s", Describe(t), TypeOf(v))
}

// ParseDuration parses a Go duration ("90s", "2m", "1h30m") and rejects
// negative values.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("expected a duration such as 30s or 5m, found %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("expected a duration that is not negative, found %q", s)
	}
	return d, nil
}

func parseFlow(s string) (any, error) {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

// normalize turns YAML/JSON decoded values into the canonical Go types:
// map[string]any, []any, int, float64, string, bool.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[FormatValue(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case int64:
		return int(x)
	case int32:
		return int(x)
	case float32:
		return float64(x)
	}
	return v
}

// Normalize is normalize, exported for the engine and providers.
func Normalize(v any) any { return normalize(v) }

// Describe names a type for error messages ("a duration", "a list").
func Describe(t Type) string {
	switch t {
	case Int:
		return "an integer"
	case Duration:
		return "a duration"
	case Any:
		return "any value"
	default:
		return "a " + string(t)
	}
}

// TypeOf names the type of a value for error messages.
func TypeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case int, int64, int32, uint64:
		return "an integer"
	case float64, float32:
		return "a number"
	case bool:
		return "a bool"
	case time.Duration:
		return "a duration"
	case []any, []string, []int:
		return "a list"
	case map[string]any, map[string]string:
		return "a map"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// FormatValue renders a value as text the way it is written in a runbook:
// integers without a decimal point, durations as "1m30s", lists and maps
// in YAML flow style.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Duration:
		return x.String()
	case []any, map[string]any:
		b, err := yaml.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		var n yaml.Node
		_ = yaml.Unmarshal(b, &n)
		setFlow(&n)
		b, _ = yaml.Marshal(&n)
		return strings.TrimSpace(string(b))
	default:
		return fmt.Sprint(x)
	}
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}

// coerceItems coerces each element of a list to the item type; the error
// names the item that does not fit.
func coerceItems[E any](items Type, x []E) (any, error) {
	out := make([]any, len(x))
	for i, e := range x {
		ce, err := Coerce(items, "", e)
		if err != nil {
			return nil, fmt.Errorf("item %d: %v", i, err)
		}
		out[i] = ce
	}
	return out, nil
}
