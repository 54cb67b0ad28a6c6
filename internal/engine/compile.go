package engine

import (
	"errors"
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/vm"
)

// compileProgram is expr.Compile without its per-call setup: expr.Compile
// builds a fresh table of every builtin function for each expression,
// which was a third of the memory of loading a large runbook. The tables
// are only read while checking and compiling (we add no functions and
// disable no builtins), so one set is shared by every compile; each
// compile still gets its own config and type cache.
func compileProgram(src string, opts ...expr.Option) (*vm.Program, error) {
	c := &conf.Config{
		Optimize:     true,
		ShortCircuit: true,
		MaxNodes:     conf.DefaultMaxNodes,
		ConstFns:     noConstFns,
		Functions:    noFunctions,
		Builtins:     builtins,
		Disabled:     noDisabled,
	}
	for _, op := range opts {
		op(c)
	}
	tree, err := checker.ParseCheck(src, c)
	if err != nil {
		return nil, err
	}
	if err := optimizer.Optimize(&tree.Node, c); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, fe.Bind(tree.Source)
		}
		return nil, err
	}
	return compiler.Compile(tree, c)
}

var (
	builtins = func() conf.FunctionsTable {
		t := conf.FunctionsTable{}
		for _, f := range builtin.Builtins {
			t[f.Name] = f
		}
		return t
	}()
	noConstFns  = conf.CreateNew().ConstFns
	noFunctions = conf.FunctionsTable{}
	noDisabled  = map[string]bool{}
)

// progCache reuses a compiled program within one parse. Runbooks repeat
// expressions ("${{ idle.group }}" in every step that scales the idle
// colour), and the same text compiled in a scope of the same type with the
// same expectations gives the same program; a program is immutable and
// safe to share. Only successes are kept, so every failure is reported at
// its own position.
type progCache map[progKey]*vm.Program

type progKey struct {
	src  string
	env  reflect.Type
	opts compileOpts
}

func (c *progCache) compile(src string, env reflect.Type, o compileOpts, opts ...expr.Option) (*vm.Program, error) {
	k := progKey{src, env, compileOpts{asBool: o.asBool, asString: o.asString}}
	if p, ok := (*c)[k]; ok {
		return p, nil
	}
	p, err := compileProgram(src, opts...)
	if err != nil {
		return nil, err
	}
	if *c == nil {
		*c = progCache{}
	}
	(*c)[k] = p
	return p, nil
}
