package host

import (
	"context"
	"fmt"
	"os"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.symlink.switch",
		Title:   "Switch a symlink",
		Summary: "Points a symlink at another folder atomically; the undo points it back.",
		Doc: "The new link is created beside the old one and renamed over it, so a web server " +
			"resolving the link sees the old folder or the new one, never a missing path. " +
			"The link must already exist (it is what the live colour is read from). Pointing " +
			"it where it already points changes nothing and is not an error.",
		Rules: []steps.Rule{
			steps.Length("link", 1, 0),
			steps.Length("target", 1, 0),
		},
		Params: []steps.Param{
			{Name: "link", Type: steps.String, Required: true,
				Doc: "Path of the symlink.", Examples: []any{"/srv/app/current"}},
			{Name: "target", Type: steps.String, Required: true,
				Doc: "The folder the link must point at; written as given (absolute or relative to the link's folder).", Examples: []any{"/srv/app/green"}},
			{Name: "must_exist", Type: steps.Bool, Default: true,
				Doc: "Fail when the target is not an existing directory, rather than serving a dangling link."},
			{Name: "colours", Type: steps.Map, Items: steps.String,
				Doc: "Folder of each colour, to report which colour was and is now served."},
		},
		Outputs: []steps.Output{
			{Name: "previous", Type: steps.String, Doc: "The link's target before the switch, as stored."},
			{Name: "target", Type: steps.String, Doc: "The link's target now."},
			{Name: "changed", Type: steps.Bool, Doc: "Whether the link pointed elsewhere before."},
			{Name: "previous_colour", Type: steps.String, Doc: "The colour served before, when colours is given."},
			{Name: "colour", Type: steps.String, Doc: "The colour served now, when colours is given."},
		},
		Mutates: true,
		Traffic: "target",
		New:     func() steps.Step { return steps.StepFunc(switchSymlinkStep) },
	})
}

func switchSymlinkStep(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	link, target := p.String("link"), p.String("target")
	previous, prevResolved, err := readSymlink(link)
	if err != nil {
		return nil, err
	}
	if p.Bool("must_exist") {
		check := resolveAgainst(link, target)
		if fi, err := os.Stat(check); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("param \"target\": %s is not an existing directory", check)
		}
	}
	colours := p.StringMap("colours")
	out := steps.Outputs{
		"previous":        previous,
		"target":          target,
		"changed":         previous != target,
		"previous_colour": colourOfDir(colours, prevResolved),
		"colour":          colourOfDir(colours, resolveAgainst(link, target)),
	}
	if previous == target {
		return out, nil
	}
	if !call.Undoing {
		undo := steps.Undo{
			Kind: "host.symlink.switch",
			// must_exist is off in the undo: going back must work even if
			// someone removed the old folder's contents meanwhile.
			Params: map[string]any{"link": link, "target": previous, "must_exist": false},
			Note:   fmt.Sprintf("point %s back at %s", link, previous),
		}
		if err := call.BeforeChange(undo); err != nil {
			return nil, fmt.Errorf("journal undo for %s: %w", link, err)
		}
	}
	if err := symlinkAtomic(target, link); err != nil {
		return nil, fmt.Errorf("point %s at %s: %w", link, target, err)
	}
	call.Log.Info().Str("link", link).Str("from", previous).Str("to", target).Msg("symlink switched")
	return out, nil
}
