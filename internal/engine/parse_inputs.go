package engine

// The runbook's declarations that come before its steps: inputs and
// colours.

import (
	"gopkg.in/yaml.v3"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func (p *parser) inputs(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.d.add(pos(n), "inputs: expected a mapping of input names, found %s", kindName(n))
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		if !varRe.MatchString(name) {
			p.d.add(pos(k), "inputs: expected a name of lower-case letters, digits and '_', found %q", name)
			continue
		}
		if _, dup := p.rb.inputs[name]; dup {
			p.d.add(pos(k), "inputs: %q is declared twice", name)
			continue
		}
		in := &Input{Name: name, Type: steps.String, Required: true, Pos: pos(k)}
		what := "input " + name
		f := p.fields(v, what, "type", "description", "default", "required", "sensitive", "enum", "validate")
		if t, ok := f["type"]; ok {
			if s, ok := p.str(t, what+": type"); ok {
				if steps.ValidParamType(steps.Type(s)) {
					in.Type = steps.Type(s)
				} else {
					p.d.add(pos(t), "%s: type: expected one of %s, found %q", what, list(typeNames(steps.ParamTypes)), s)
				}
			}
		}
		if x, ok := f["description"]; ok {
			in.Description, _ = p.str(x, what+": description")
		}
		if x, ok := f["sensitive"]; ok {
			in.Sensitive, _ = p.boolean(x, what+": sensitive")
		}
		if x, ok := f["enum"]; ok {
			if x.Kind != yaml.SequenceNode {
				p.d.add(pos(x), "%s: enum: expected a list of strings, found %s", what, kindName(x))
			} else {
				for _, e := range x.Content {
					if s, ok := p.str(e, what+": enum"); ok {
						in.Enum = append(in.Enum, s)
					}
				}
			}
		}
		if x, ok := f["default"]; ok {
			in.Required = false
			var raw any
			if err := x.Decode(&raw); err != nil {
				p.d.add(pos(x), "%s: default: %v", what, err)
			} else if cv, err := steps.Coerce(in.Type, "", steps.Normalize(raw)); err != nil {
				p.d.add(pos(x), "%s: default: %v", what, err)
			} else {
				in.Default = cv
			}
		}
		if x, ok := f["required"]; ok {
			if b, ok := p.boolean(x, what+": required"); ok {
				in.Required = b
			}
		}
		// An input is declared as a step's param is, and checked by the
		// same code: the declaration, then the default's value.
		prm := in.param()
		if e := prm.CheckDecl(); e != nil {
			at := pos(k)
			if x, ok := f[e.Field]; ok {
				at = pos(x)
			}
			p.d.add(at, "%s: %v", what, e)
		} else if in.Default != nil {
			if _, err := prm.Check(in.Default); err != nil {
				p.d.add(pos(f["default"]), "%s: default: %v", what, err)
			}
		}
		if x, ok := f["validate"]; ok {
			p.inputRules(x, in, what)
			if in.Default != nil {
				if msg := in.check(in.Default); msg != "" {
					p.d.add(pos(f["default"]), "%s: default: %s", what, msg)
				}
			}
		}
		p.rb.Inputs = append(p.rb.Inputs, in)
		p.rb.inputs[name] = in
	}
}

func (p *parser) colours(n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.d.add(pos(n), "colours: expected a mapping of exactly two colours, found %s", kindName(n))
		return
	}
	if len(n.Content) != 4 {
		// Point at the first colour too many, or at the only one.
		at := pos(n)
		var names []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			names = append(names, n.Content[i].Value)
		}
		if len(n.Content) > 4 {
			at = pos(n.Content[4])
		}
		p.d.add(at, "colours: expected exactly two colours, found %d (%s)", len(names), list(names))
	}
	inScope := newScope([]scopeField{{name: "inputs", typ: p.inputsType()}, {name: "run", typ: p.runType()}})
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !idRe.MatchString(k.Value) {
			p.d.add(pos(k), "colours: expected a colour name of lower-case letters, digits, '-' or '_', found %q", k.Value)
			continue
		}
		if p.rb.Colour(k.Value) != nil {
			p.d.add(pos(k), "colours: %q is declared twice", k.Value)
			continue
		}
		c := &Colour{Name: k.Value, Pos: pos(k)}
		if v.Kind != yaml.MappingNode {
			p.d.add(pos(v), "colour %s: expected a mapping of attributes, found %s", k.Value, kindName(v))
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			ak, av := v.Content[j], v.Content[j+1]
			if ak.Value == "name" {
				p.d.add(pos(ak), "colour %s: \"name\" is reserved (it is the colour's own name)", k.Value)
				continue
			}
			if !varRe.MatchString(ak.Value) {
				p.d.add(pos(ak), "colour %s: expected an attribute name of lower-case letters, digits and '_', found %q", k.Value, ak.Value)
				continue
			}
			c.Attrs = append(c.Attrs, &Attr{Name: ak.Value, Value: p.tmpl(av, inScope, nil)})
		}
		p.rb.Colours = append(p.rb.Colours, c)
	}
}
