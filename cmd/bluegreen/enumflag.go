package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// enumValue is a string flag with a fixed set of values. The value is
// checked when the flag is parsed, so a value that is not allowed is a
// usage error (exit 2) on every run, not only on the run whose path
// happens to read the flag (`--recover banana` used to pass whenever no
// run was unfinished).
type enumValue struct {
	p       *string
	allowed []string
}

func (e *enumValue) String() string { return *e.p }

func (e *enumValue) Set(s string) error {
	for _, a := range e.allowed {
		if s == a {
			*e.p = s
			return nil
		}
	}
	return fmt.Errorf("expected %s, found %q", orList(e.allowed), s)
}

func (e *enumValue) Type() string { return strings.Join(e.allowed, "|") }

// enumVarP defines an enum flag (with an optional shorthand) whose default
// is def.
func enumVarP(fs *pflag.FlagSet, p *string, name, short, def string, allowed []string, usage string) {
	*p = def
	fs.VarP(&enumValue{p: p, allowed: allowed}, name, short, usage)
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
