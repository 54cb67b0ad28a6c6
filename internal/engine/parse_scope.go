package engine

// The types of the names expressions see (inputs, colours, live, idle,
// steps, run), so that expressions are type-checked when the runbook loads.

import (
	"reflect"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// inputsType is the typed struct of the declared inputs.
func (p *parser) inputsType() reflect.Type {
	var f []scopeField
	for _, in := range p.rb.Inputs {
		f = append(f, scopeField{name: in.Name, typ: goType(in.Type)})
	}
	t, _ := structOf(f)
	return t
}

// colourType is the struct every colour, live and idle share: the union of
// the colours' attribute names plus name.
func (p *parser) colourType() reflect.Type {
	f := []scopeField{{name: "name", typ: reflect.TypeOf("")}}
	for _, c := range p.rb.Colours {
		for _, a := range c.Attrs {
			f = append(f, scopeField{name: a.Name, typ: anyType})
		}
	}
	t, _ := structOf(f)
	return t
}

func (p *parser) runType() reflect.Type {
	t, _ := structOf([]scopeField{{name: "id", typ: reflect.TypeOf("")}, {name: "started", typ: reflect.TypeOf(time.Time{})}, {name: "phase", typ: reflect.TypeOf("")}})
	return t
}

// globals are the names every step-level expression sees. inputs,
// colours and run do not change once the steps are reached, so their
// types are built once; steps is a view of the visible steps (see
// scope_steps.go), which keeps loading linear in the number of steps.
func (p *parser) globals(visible []stepOut) []scopeField {
	if p.base == nil {
		ct := p.colourType()
		var cf []scopeField
		for _, c := range p.rb.Colours {
			cf = append(cf, scopeField{name: c.Name, typ: ct})
		}
		colours, _ := structOf(cf)
		p.base = []scopeField{
			{name: "inputs", typ: p.inputsType()}, {name: "colours", typ: colours}, {name: "live", typ: ct}, {name: "idle", typ: ct},
			{name: "steps"}, {name: "run", typ: p.runType()},
		}
	}
	g := append([]scopeField(nil), p.base...)
	g[4] = p.stepsField(visible)
	return g
}

func outputsType(s *steps.Spec) reflect.Type {
	t, _ := structOf(outputFields(s))
	return t
}

func outputFields(s *steps.Spec) []scopeField {
	var f []scopeField
	for _, o := range s.Outputs {
		f = append(f, scopeField{name: o.Name, typ: goType(o.Type)})
	}
	return f
}
