package host

import (
	"fmt"
	"path"
	"strings"
)

// globSet matches slash-separated relative paths against ignore patterns
// written the way .gitignore users expect:
//
//   - a pattern without a slash matches a name at any depth ("*.log", "cache");
//   - a pattern with a slash is anchored at the root ("config/local.yaml");
//   - "**" matches any number of folders ("logs/**", "**/tmp/*.pid");
//   - a trailing slash matches folders only ("uploads/").
//
// An ignored folder is skipped with everything in it.
type globSet []glob

type glob struct {
	segs    []string
	anyDeep bool // no slash: match the base name at any depth
	dirOnly bool
}

func compileGlobs(patterns []string) (globSet, error) {
	var out globSet
	for _, p := range patterns {
		g := glob{}
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if strings.HasSuffix(p, "/") {
			g.dirOnly = true
			p = strings.TrimRight(p, "/")
		}
		if !strings.Contains(p, "/") {
			g.anyDeep = true
		}
		g.segs = strings.Split(strings.TrimPrefix(p, "/"), "/")
		for _, s := range g.segs {
			if _, err := path.Match(s, ""); err != nil {
				return nil, fmt.Errorf("ignore pattern %q: %w", p, err)
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// Match reports whether the relative path rel (slash-separated) is ignored.
func (gs globSet) Match(rel string, isDir bool) bool {
	segs := strings.Split(rel, "/")
	for _, g := range gs {
		if g.dirOnly && !isDir {
			continue
		}
		if g.anyDeep {
			if ok, _ := path.Match(g.segs[0], segs[len(segs)-1]); ok {
				return true
			}
			continue
		}
		if matchSegs(g.segs, segs) {
			return true
		}
	}
	return false
}

func matchSegs(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(segs); i++ {
			if matchSegs(pat[1:], segs[i:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	if ok, _ := path.Match(pat[0], segs[0]); !ok {
		return false
	}
	return matchSegs(pat[1:], segs[1:])
}
