package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.symlink.read",
		Title:   "Read a symlink",
		Summary: "Reads where a symlink points and, given the colours' folders, which colour that is.",
		Doc: "Use it as `detect` in a same-host runbook whose web server serves a folder through a " +
			"link (`/srv/app/current -> /srv/app/blue`): the colour it reports is the live one.",
		Rules: []steps.Rule{
			steps.Length("link", 1, 0),
		},
		Params: []steps.Param{
			{Name: "link", Type: steps.String, Required: true,
				Doc: "Path of the symlink.", Examples: []any{"/srv/app/current"}},
			{Name: "colours", Type: steps.Map, Items: steps.String,
				Doc:      "Folder of each colour; the output colour is the one whose folder the link points at.",
				Examples: []any{map[string]any{"blue": "/srv/app/blue", "green": "/srv/app/green"}}},
		},
		Outputs: []steps.Output{
			{Name: "target", Type: steps.String, Doc: "The link's target as stored (may be relative)."},
			{Name: "resolved", Type: steps.String, Doc: "The target as an absolute path (a relative target is taken from the link's folder)."},
			{Name: "colour", Type: steps.String, Doc: "The colour whose folder the link points at; empty when none matches or colours is not given."},
		},
		Traffic: "target",
		New:     func() steps.Step { return steps.StepFunc(readSymlinkStep) },
	})
}

func readSymlinkStep(_ context.Context, call *steps.Call) (steps.Outputs, error) {
	link := call.Params.String("link")
	target, resolved, err := readSymlink(link)
	if err != nil {
		return nil, err
	}
	return steps.Outputs{
		"target":   target,
		"resolved": resolved,
		"colour":   colourOfDir(call.Params.StringMap("colours"), resolved),
	}, nil
}

// readSymlink returns the link's stored target and that target as an
// absolute path. A path that exists but is not a link is an error that says
// so: a same-host switch needs the served folder to be a link.
func readSymlink(link string) (target, resolved string, err error) {
	fi, err := os.Lstat(link)
	if err != nil {
		return "", "", fmt.Errorf("read link %s: %w", link, err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		return "", "", fmt.Errorf("read link %s: it is a %s, not a symlink; move it aside and create a link to the live folder first", link, fileKind(fi))
	}
	target, err = os.Readlink(link)
	if err != nil {
		return "", "", fmt.Errorf("read link %s: %w", link, err)
	}
	return target, resolveAgainst(link, target), nil
}

func fileKind(fi os.FileInfo) string {
	switch {
	case fi.IsDir():
		return "directory"
	case fi.Mode().IsRegular():
		return "regular file"
	default:
		return fi.Mode().Type().String()
	}
}

// resolveAgainst makes a link target absolute the way the kernel resolves
// it: a relative target is taken from the folder that holds the link.
func resolveAgainst(link, target string) string {
	if filepath.IsAbs(target) {
		return filepath.Clean(target)
	}
	return filepath.Join(filepath.Dir(absClean(link)), target)
}
