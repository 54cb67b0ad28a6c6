package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// FormatVersion is the record format this build reads and writes. A record
// carries it in "format"; records written before the field existed have
// none and read as format 1, which they are. A change that an older
// bluegreen would misread (a new run status, a field whose absence changes
// the meaning) bumps it, so that the older build refuses the record
// instead of overwriting what it does not understand.
const FormatVersion = 1

// ErrFormat matches every *FormatError with errors.Is.
var ErrFormat = errors.New("state record format not supported")

// FormatError says a stored record cannot be used by this build. The
// record is left exactly as it is: nothing is written over it.
type FormatError struct {
	Key    string
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("state %q: %s; the record is left untouched (use a bluegreen that understands it)", e.Key, e.Reason)
}

// Is makes errors.Is(err, ErrFormat) true.
func (e *FormatError) Is(target error) bool { return target == ErrFormat }

// knownStatuses are the run statuses this build understands.
var knownStatuses = map[string]bool{
	StatusRunning: true, StatusSucceeded: true, StatusFailed: true, StatusRolledBack: true,
	StatusRollbackErr: true, StatusInterrupted: true, StatusPhaseDone: true,
}

// Check refuses a record this build would misread: a newer format, or a
// latest run whose status it does not know (it could hold applied changes
// that a new run would drop from the journal).
func (r *Record) Check(key string) error {
	if r == nil {
		return nil
	}
	if r.Format > FormatVersion || r.Format < 0 {
		return &FormatError{Key: key, Reason: fmt.Sprintf("the record has format %d and this bluegreen understands format %d at most", r.Format, FormatVersion)}
	}
	if r.Run != nil && !knownStatuses[r.Run.Status] {
		return &FormatError{Key: key, Reason: fmt.Sprintf("the latest run %s has status %q, which this bluegreen does not know", r.Run.ID, r.Run.Status)}
	}
	return nil
}

// The records keep JSON fields they do not know (written by a newer
// bluegreen) and write them back unchanged, so that an older build that
// saves a record loses nothing of it.

func (r *Record) UnmarshalJSON(b []byte) error {
	type plain Record
	return unmarshalKeep(b, (*plain)(r), &r.Extra)
}

func (r Record) MarshalJSON() ([]byte, error) {
	type plain Record
	return marshalKeep(plain(r), r.Extra)
}

func (r *Run) UnmarshalJSON(b []byte) error {
	type plain Run
	return unmarshalKeep(b, (*plain)(r), &r.Extra)
}

func (r Run) MarshalJSON() ([]byte, error) {
	type plain Run
	return marshalKeep(plain(r), r.Extra)
}

func (e *Entry) UnmarshalJSON(b []byte) error {
	type plain Entry
	return unmarshalKeep(b, (*plain)(e), &e.Extra)
}

func (e Entry) MarshalJSON() ([]byte, error) {
	type plain Entry
	return marshalKeep(plain(e), e.Extra)
}

func (s *Summary) UnmarshalJSON(b []byte) error {
	type plain Summary
	return unmarshalKeep(b, (*plain)(s), &s.Extra)
}

func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return marshalKeep(plain(s), s.Extra)
}

// unmarshalKeep decodes b into v and puts every top-level field that v's
// type does not declare into *extra.
func unmarshalKeep(b []byte, v any, extra *map[string]json.RawMessage) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	known := jsonNames(reflect.TypeOf(v).Elem())
	*extra = nil
	for k, raw := range all {
		if known[k] {
			continue
		}
		if *extra == nil {
			*extra = map[string]json.RawMessage{}
		}
		(*extra)[k] = raw
	}
	return nil
}

// marshalKeep encodes v and adds the kept unknown fields (a known field of
// the same name wins).
func marshalKeep(v any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, raw := range extra {
		if _, ok := all[k]; !ok {
			all[k] = raw
		}
	}
	return json.Marshal(all)
}

var namesCache sync.Map // reflect.Type -> map[string]bool

// jsonNames lists the JSON field names a struct type declares.
func jsonNames(t reflect.Type) map[string]bool {
	if m, ok := namesCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		m[name] = true
	}
	namesCache.Store(t, m)
	return m
}
