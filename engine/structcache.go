package engine

import (
	"reflect"
	"strings"
	"sync"
)

// structCache remembers the struct types built for scopes. Every step and
// expression builds its scope from the same few parts (inputs, colours,
// the steps it names, loop variables), so most types are built many times
// over; reflect.StructOf returns the same type for the same fields but
// still costs the field names, tags and a lookup each time. Entries are
// keyed by the fields' names and checked by their types.
var structCache = &typeCache{m: map[string][]cachedStruct{}}

type typeCache struct {
	mu sync.Mutex
	m  map[string][]cachedStruct
}

type cachedStruct struct {
	types []reflect.Type
	typ   reflect.Type
	kept  []scopeField
}

func (c *typeCache) get(fields []scopeField) (reflect.Type, []scopeField) {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.name)
		b.WriteByte(0)
	}
	key := b.String()
	c.mu.Lock()
	defer c.mu.Unlock()
next:
	for _, cs := range c.m[key] {
		for i, f := range fields {
			if cs.types[i] != f.typ {
				continue next
			}
		}
		// The kept fields carry the caller's steps views, which differ
		// between scopes of the same type.
		return cs.typ, keep(fields, cs.kept)
	}
	t, kept := buildStruct(fields)
	types := make([]reflect.Type, len(fields))
	for i, f := range fields {
		types[i] = f.typ
	}
	c.m[key] = append(c.m[key], cachedStruct{types: types, typ: t, kept: kept})
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
