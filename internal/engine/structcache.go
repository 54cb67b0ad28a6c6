package engine

import (
	"encoding/binary"
	"reflect"
	"sync"
)

// structCache remembers the struct types built for scopes. Every step and
// expression builds its scope from the same few parts (inputs, colours,
// the steps it names, loop variables), so most types are built many times
// over; reflect.StructOf returns the same type for the same fields but
// still costs the field names, tags and a lookup each time. Entries are
// keyed by the fields' names and the identities of their types.
var structCache = &typeCache{m: map[string]cachedStruct{}}

type typeCache struct {
	mu sync.Mutex
	m  map[string]cachedStruct
}

type cachedStruct struct {
	typ  reflect.Type
	kept []scopeField
}

func (c *typeCache) get(fields []scopeField) (reflect.Type, []scopeField) {
	b := make([]byte, 0, len(fields)*24)
	for _, f := range fields {
		b = append(b, f.name...)
		b = append(b, 0)
		var id uintptr
		if f.typ != nil {
			// A reflect.Type is a pointer to the type's descriptor:
			// equal types are the same pointer.
			id = reflect.ValueOf(f.typ).Pointer()
		}
		b = binary.LittleEndian.AppendUint64(b, uint64(id))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.m[string(b)]; ok {
		// The kept fields carry the caller's steps views, which differ
		// between scopes of the same type.
		return cs.typ, keep(fields, cs.kept)
	}
	t, kept := buildStruct(fields)
	c.m[string(b)] = cachedStruct{typ: t, kept: kept}
	return t, kept
}

// keep returns the fields of a cached struct taken from the caller's
// fields: the first of each name, as buildStruct keeps them.
func keep(fields, cached []scopeField) []scopeField {
	hasSteps := false
	for _, f := range fields {
		if f.steps != nil {
			hasSteps = true
			break
		}
	}
	if !hasSteps {
		return cached
	}
	out := make([]scopeField, 0, len(cached))
	seen := map[string]bool{}
	for _, f := range fields {
		if !seen[f.name] {
			seen[f.name] = true
			out = append(out, f)
		}
	}
	return out
}
