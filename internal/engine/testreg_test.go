package engine

import (
	"context"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// testRegistry is an isolated registry of throwaway steps that mimic the
// real providers' shapes, so engine tests need no cloud.
func testRegistry(w *world) *steps.Registry {
	r := steps.NewRegistry()
	r.Register(steps.Spec{
		Kind: "test.get-weights", Title: "Get weights", Summary: "Reads weights.",
		Params:  []steps.Param{{Name: "zone", Type: steps.String, Doc: "Zone.", Required: true}, {Name: "name", Type: steps.String, Doc: "Name."}},
		Outputs: []steps.Output{{Name: "weights", Type: steps.Map, Doc: "Weights by colour."}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				return steps.Outputs{"weights": w.weightsMap()}, w.err("get-weights")
			})
		},
	})
	r.Register(steps.Spec{
		Kind: "test.set-weights", Title: "Set weights", Summary: "Sets weights.", Mutates: true,
		Params: []steps.Param{{Name: "zone", Type: steps.String, Doc: "Zone."}, {Name: "name", Type: steps.String, Doc: "Name."},
			{Name: "weights", Type: steps.Map, Items: steps.Int, Doc: "Weights.", Required: true}},
		Outputs: []steps.Output{{Name: "applied", Type: steps.Map, Doc: "Applied."}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				prev := w.weightsMap()
				if err := c.BeforeChange(steps.Undo{Kind: "test.set-weights", Params: map[string]any{"weights": prev}, Note: "restore weights"}); err != nil {
					return nil, err
				}
				if err := w.err("set-weights"); err != nil {
					return nil, err
				}
				w.setWeights(c.Params.Map("weights"))
				return steps.Outputs{"applied": c.Params.Map("weights")}, nil
			})
		},
	})
	r.Register(steps.Spec{
		Kind: "test.scale", Title: "Scale", Summary: "Scales a group.", Mutates: true,
		Params: []steps.Param{{Name: "group", Type: steps.String, Doc: "Group.", Required: true}, {Name: "desired", Type: steps.Int, Doc: "Desired.", Required: true}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				g := c.Params.String("group")
				if err := c.BeforeChange(steps.Undo{Kind: "test.scale", Params: map[string]any{"group": g, "desired": w.size(g)}}); err != nil {
					return nil, err
				}
				if err := w.err("scale"); err != nil {
					return nil, err
				}
				w.setSize(g, c.Params.Int("desired"))
				return nil, nil
			})
		},
	})
	r.Register(steps.Spec{
		Kind: "test.health", Title: "Health", Summary: "Counts healthy targets.",
		Params:  []steps.Param{{Name: "group", Type: steps.String, Doc: "Group.", Required: true}, {Name: "delay", Type: steps.Duration, Doc: "Delay.", Default: time.Duration(0)}},
		Outputs: []steps.Output{{Name: "healthy", Type: steps.Int, Doc: "Healthy."}, {Name: "total", Type: steps.Int, Doc: "Total."}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				if err := w.err("health"); err != nil {
					return nil, err
				}
				h, t := w.poll(c.Params.String("group"))
				return steps.Outputs{"healthy": h, "total": t}, nil
			})
		},
	})
	r.Register(steps.Spec{
		Kind: "test.metric", Title: "Metric", Summary: "Reads a metric.",
		Params:  []steps.Param{{Name: "name", Type: steps.String, Doc: "Metric.", Required: true}, {Name: "secret", Type: steps.String, Doc: "A secret.", Sensitive: true}},
		Outputs: []steps.Output{{Name: "value", Type: steps.Number, Doc: "Value."}},
		New: func() steps.Step {
			return steps.StepFunc(func(ctx context.Context, c *steps.Call) (steps.Outputs, error) {
				return steps.Outputs{"value": w.metric()}, w.err("metric")
			})
		},
	})
	return r
}
