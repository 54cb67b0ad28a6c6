package steps

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// Params encoded for the journal bind again to the values they came from
// after a JSON round trip, durations included.
func TestEncodeRoundTrip(t *testing.T) {
	spec := &Spec{Kind: "x.encode", Params: []Param{
		{Name: "timeout", Type: Duration},
		{Name: "waits", Type: List, Items: Duration},
		{Name: "per_host", Type: Map, Items: Duration},
		{Name: "count", Type: Int},
		{Name: "command", Type: List, Items: String},
	}}
	typed := Params{
		"timeout":  90 * time.Second,
		"waits":    []any{time.Second, 250 * time.Millisecond},
		"per_host": map[string]any{"a": time.Minute},
		"count":    3,
		"command":  []any{"echo", "hi"},
	}
	enc := spec.Encode(typed)
	if enc["timeout"] != "1m30s" || !reflect.DeepEqual(enc["waits"], []any{"1s", "250ms"}) || !reflect.DeepEqual(enc["per_host"], map[string]any{"a": "1m0s"}) {
		t.Errorf("encoded %v", enc)
	}
	b, err := json.Marshal(enc)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, errs := spec.Bind(back)
	if len(errs) > 0 || !reflect.DeepEqual(got, typed) {
		t.Errorf("bound back %v (%v), want %v", got, errs, typed)
	}
	// Without the encoding a duration is a number of nanoseconds, which
	// does not bind: the journal could not be rolled back.
	raw, _ := json.Marshal(map[string]any{"timeout": 90 * time.Second})
	var plain map[string]any
	_ = json.Unmarshal(raw, &plain)
	if _, errs := spec.Bind(plain); len(errs) == 0 {
		t.Errorf("a duration as JSON nanoseconds bound: %v", plain)
	}
}
