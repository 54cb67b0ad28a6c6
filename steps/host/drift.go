package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

func init() {
	steps.Register(steps.Spec{
		Kind:    "host.drift",
		Title:   "Compare two release folders",
		Summary: "Compares two folders by content hash and lists the paths that differ, so a manual fix made to one copy shows up before the switch.",
		Doc: "Files are compared by size and SHA-256 of their content, and by permission bits " +
			"(a `chmod +x` made by hand is drift too); symlinks by their target, so a link is " +
			"never followed out of the tree. A folder present on one side only is reported " +
			"once, not file by file. Paths in the outputs are relative and slash-separated, " +
			"sorted; a folder ends with a slash.\n\n" +
			"Ignore patterns follow .gitignore habits: `*.log` or `cache` match a name at any " +
			"depth, `config/local.yaml` is anchored at the root, `**` spans folders, and a " +
			"trailing slash matches folders only. Ignore what legitimately differs between the " +
			"copies (logs, caches, the colour's own settings).",
		Rules: []steps.Rule{
			steps.Length("left", 1, 0),
			steps.Length("right", 1, 0),
			steps.AtLeast("max_paths", 0),
		},
		Params: []steps.Param{
			{Name: "left", Type: steps.String, Required: true,
				Doc: "The first folder, usually the live copy.", Examples: []any{"/srv/app/blue"}},
			{Name: "right", Type: steps.String, Required: true,
				Doc: "The second folder, usually the idle copy.", Examples: []any{"/srv/app/green"}},
			{Name: "ignore", Type: steps.List, Items: steps.String,
				Doc: "Patterns of paths not compared.", Examples: []any{[]any{"*.log", "tmp/", "config/colour.yaml"}}},
			{Name: "fail_on_drift", Type: steps.Bool, Default: true,
				Doc: "Fail when anything differs. Set false to only report, e.g. to decide in a later step."},
			{Name: "max_paths", Type: steps.Int, Default: 100,
				Doc: "At most this many paths in each list output; count is always the full number."},
		},
		Outputs: []steps.Output{
			{Name: "same", Type: steps.Bool, Doc: "Whether nothing differs."},
			{Name: "count", Type: steps.Int, Doc: "How many paths differ."},
			{Name: "paths", Type: steps.List, Doc: "Every differing path."},
			{Name: "only_left", Type: steps.List, Doc: "Paths only in left."},
			{Name: "only_right", Type: steps.List, Doc: "Paths only in right."},
			{Name: "modified", Type: steps.List, Doc: "Paths in both whose content, type, permissions or link target differ."},
			{Name: "files", Type: steps.Int, Doc: "How many paths were compared (after ignoring)."},
		},
		New: func() steps.Step { return steps.StepFunc(driftStep) },
	})
}

// treeEntry is what is compared for one path.
type treeEntry struct {
	kind string // "file", "dir", "link", or the mode type for anything else
	size int64
	perm fs.FileMode
	link string
}

func driftStep(ctx context.Context, call *steps.Call) (steps.Outputs, error) {
	p := call.Params
	left, right := p.String("left"), p.String("right")
	globs, err := compileGlobs(p.Strings("ignore"))
	if err != nil {
		return nil, fmt.Errorf("param \"ignore\": %w", err)
	}
	lt, err := scanTree(ctx, left, globs)
	if err != nil {
		return nil, fmt.Errorf("scan left: %w", err)
	}
	rt, err := scanTree(ctx, right, globs)
	if err != nil {
		return nil, fmt.Errorf("scan right: %w", err)
	}

	var onlyLeft, onlyRight, modified []string
	all := map[string]bool{}
	for rel := range lt {
		all[rel] = true
	}
	for rel := range rt {
		all[rel] = true
	}
	for _, rel := range sortedKeys(all) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, inL := lt[rel]
		r, inR := rt[rel]
		switch {
		case inL && !inR:
			if !underOnly(rel, lt, rt) {
				onlyLeft = append(onlyLeft, display(rel, l))
			}
		case inR && !inL:
			if !underOnly(rel, rt, lt) {
				onlyRight = append(onlyRight, display(rel, r))
			}
		default:
			same, err := sameEntry(left, right, rel, l, r)
			if err != nil {
				return nil, fmt.Errorf("compare %s: %w", rel, err)
			}
			if !same {
				modified = append(modified, display(rel, l))
			}
		}
	}
	paths := append(append(append([]string{}, onlyLeft...), onlyRight...), modified...)
	sort.Strings(paths)
	limit := p.Int("max_paths")
	out := steps.Outputs{
		"same":       len(paths) == 0,
		"count":      len(paths),
		"paths":      bounded(paths, limit),
		"only_left":  bounded(onlyLeft, limit),
		"only_right": bounded(onlyRight, limit),
		"modified":   bounded(modified, limit),
		"files":      len(all),
	}
	if len(paths) > 0 && p.Bool("fail_on_drift") {
		shown := paths
		more := ""
		if len(shown) > 10 {
			shown, more = shown[:10], fmt.Sprintf(" and %d more", len(paths)-10)
		}
		return out, fmt.Errorf("%d paths differ between %s and %s: %s%s", len(paths), left, right, strings.Join(shown, ", "), more)
	}
	return out, nil
}

// scanTree lists every path under root that is not ignored.
func scanTree(ctx context.Context, root string, globs globSet) (map[string]treeEntry, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	out := map[string]treeEntry{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if globs.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := treeEntry{perm: info.Mode().Perm()}
		switch {
		case info.Mode().IsRegular():
			e.kind, e.size = "file", info.Size()
		case info.IsDir():
			e.kind = "dir"
		case info.Mode()&fs.ModeSymlink != 0:
			e.kind = "link"
			e.perm = 0 // link permissions mean nothing on Linux
			if e.link, err = os.Readlink(p); err != nil {
				return err
			}
		default:
			e.kind = info.Mode().Type().String()
		}
		out[rel] = e
		return nil
	})
	return out, err
}

// sameEntry compares one path present on both sides.
func sameEntry(leftRoot, rightRoot, rel string, l, r treeEntry) (bool, error) {
	if l.kind != r.kind || l.perm != r.perm || l.link != r.link || l.size != r.size {
		return false, nil
	}
	if l.kind != "file" {
		return true, nil
	}
	lh, err := fileHash(filepath.Join(leftRoot, filepath.FromSlash(rel)))
	if err != nil {
		return false, err
	}
	rh, err := fileHash(filepath.Join(rightRoot, filepath.FromSlash(rel)))
	if err != nil {
		return false, err
	}
	return bytes.Equal(lh, rh), nil
}

func fileHash(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// underOnly reports whether a path only in `in` sits in a folder that is
// also only in `in`: the folder is reported, not its contents.
func underOnly(rel string, in, other map[string]treeEntry) bool {
	for dir := pathDir(rel); dir != ""; dir = pathDir(dir) {
		if _, mine := in[dir]; mine {
			if _, theirs := other[dir]; !theirs {
				return true
			}
		}
	}
	return false
}

func pathDir(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

func display(rel string, e treeEntry) string {
	if e.kind == "dir" {
		return rel + "/"
	}
	return rel
}

// bounded returns at most n items as the []any runbook expressions use.
func bounded(items []string, n int) []any {
	if n >= 0 && len(items) > n {
		items = items[:n]
	}
	out := make([]any, len(items))
	for i, s := range items {
		out[i] = s
	}
	return out
}
