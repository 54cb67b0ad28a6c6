package steps

import "time"

// Encode returns params in the form they keep as data (the journal, which
// is JSON), each value by its param's declared type, so that Bind reads it
// back as the same value: a duration becomes its text ("1m30s"), also as
// the items of a list or map of durations, where JSON would make it a
// number of nanoseconds that binds as no duration. Steps hand their undo
// params over typed, as Bind gave them; the engine encodes them here, so
// no step converts for the journal. Params the spec does not declare are
// kept as they are.
func (s *Spec) Encode(params map[string]any) map[string]any {
	out := make(map[string]any, len(params))
	for k, v := range params {
		if p := s.Param(k); p != nil {
			v = EncodeValue(p.Type, p.Items, v)
		}
		out[k] = v
	}
	return out
}

// EncodeValue is Encode for one value of type t (items: the type of a
// list's items or a map's values).
func EncodeValue(t, items Type, v any) any {
	switch t {
	case Duration:
		if d, ok := v.(time.Duration); ok {
			return d.String()
		}
	case List:
		if l, ok := v.([]any); ok && items != "" {
			out := make([]any, len(l))
			for i, e := range l {
				out[i] = EncodeValue(items, "", e)
			}
			return out
		}
	case Map:
		if m, ok := v.(map[string]any); ok && items != "" {
			out := make(map[string]any, len(m))
			for k, e := range m {
				out[k] = EncodeValue(items, "", e)
			}
			return out
		}
	}
	return v
}
