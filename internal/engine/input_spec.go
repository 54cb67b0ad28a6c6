package engine

import "github.com/bluegreen-deploy/bluegreen/steps"

// An input is declared as a step's param is (type, default, required,
// enum, sensitive), so it is checked and bound by the same code: the
// declaration by steps.Param.CheckDecl when the runbook loads, given values
// by steps.Spec.Bind when a run starts. Only validate: rules are the
// input's own (validate_inputs.go).

// param is the input declared as a step param.
func (in *Input) param() steps.Param {
	return steps.Param{
		Name:      in.Name,
		Type:      in.Type,
		Doc:       in.Description,
		Required:  in.Required,
		Default:   in.Default,
		Enum:      in.Enum,
		Sensitive: in.Sensitive,
	}
}

// inputSpec is the runbook's inputs as the params of a spec, for Bind.
func (r *Runbook) inputSpec() *steps.Spec {
	s := &steps.Spec{Kind: "the runbook's inputs"}
	for _, in := range r.Inputs {
		s.Params = append(s.Params, in.param())
	}
	return s
}

func typeNames(types []steps.Type) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}
	return out
}
