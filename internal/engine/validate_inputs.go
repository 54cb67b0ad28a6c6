package engine

import (
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// Rule is one `validate:` entry of an input: a condition over the input's
// value that must hold, and the message shown when it does not. Rules are
// compiled once, at load, in a scope holding only `value` (typed as the
// input is), so a rule cannot depend on anything but the value it checks.
// They are checked in order and the first that fails is reported: a later
// rule may assume the earlier ones hold (`value[0]` after `len(value) > 0`),
// as in CUE or Terraform's validation blocks.
type Rule struct {
	Expr    *Expr
	Message string
	Pos     Pos
}

// inputRules parses an input's `validate:` list.
func (p *parser) inputRules(n *yaml.Node, in *Input, what string) {
	what += ": validate"
	if n.Kind != yaml.SequenceNode {
		p.d.add(pos(n), "%s: expected a list of rules ({rule: EXPR, message: TEXT}), found %s", what, kindName(n))
		return
	}
	sc := newScope([]scopeField{{name: "value", typ: goType(in.Type)}})
	for i, rn := range n.Content {
		rwhat := fmt.Sprintf("%s: rule %d", what, i+1)
		f := p.fields(rn, rwhat, "rule", "message")
		if rn.Kind != yaml.MappingNode {
			continue
		}
		r := &Rule{Pos: pos(rn)}
		if m, ok := f["message"]; ok {
			r.Message, _ = p.str(m, rwhat+": message")
		}
		x, ok := f["rule"]
		if !ok {
			p.d.add(pos(rn), "%s: missing key \"rule\" (a condition over value, e.g. len(value) > 0)", rwhat)
			continue
		}
		// An empty later-steps set: inputs come before any step.
		if r.Expr = p.boolOrExprLater(x, rwhat+": rule", sc, compileOpts{asBool: true}, map[string]bool{}); r.Expr != nil {
			in.Rules = append(in.Rules, r)
		}
	}
}

// check runs the input's rules over v and returns the problem with the
// first that fails (without the input's name), or "". An error while evaluating a rule (a value of an
// unexpected type inside a list, say) fails that rule too. The value of a
// sensitive input is never part of the problem.
func (in *Input) check(v any) string {
	for i, r := range in.Rules {
		ok, err := r.Expr.EvalBool(map[string]any{"value": v})
		if err == nil && ok {
			continue
		}
		msg := r.Message
		if msg == "" {
			msg = fmt.Sprintf("expected a value for which %s holds", r.Expr.Source)
		}
		found := ""
		if !in.Sensitive {
			found = ", found " + describeValue(v)
		}
		return fmt.Sprintf("%s%s (rule %d: %s)", msg, found, i+1, r.Expr.Source)
	}
	return ""
}

// describeValue shows a value in a message the way it would be written.
func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "nothing"
	}
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map) && rv.Len() == 0 {
		if rv.Kind() == reflect.Slice {
			return "an empty list"
		}
		return "an empty map"
	}
	return steps.FormatValue(v)
}
