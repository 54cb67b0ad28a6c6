package host

import (
	"path/filepath"
	"sort"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// colourOfDir returns the colour whose folder is dir, or "". Both sides are
// compared as cleaned absolute paths, then with symlinks resolved, so
// /srv/app/./blue and a /srv/app/blue reached through a link both match.
func colourOfDir(colours map[string]string, dir string) string {
	for _, name := range sortedKeys(colours) {
		if samePath(colours[name], dir) {
			return name
		}
	}
	return ""
}

func samePath(a, b string) bool {
	a, b = absClean(a), absClean(b)
	if a == b {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

func absClean(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// colourOfPort returns the colour whose port is port, or "".
func colourOfPort(colours map[string]any, port int) string {
	for _, name := range sortedKeys(colours) {
		if v, err := steps.Coerce(steps.Int, "", colours[name]); err == nil && v.(int) == port {
			return name
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
