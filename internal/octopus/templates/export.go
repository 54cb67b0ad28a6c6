package templates

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/bluegreen-deploy/bluegreen/steps"
)

// VersionsFile is the lock file, beside the templates, that remembers each
// template's content hash, Version and ExportedAt. Export bumps a Version
// only when the hash changes, so re-exporting an unchanged registry writes
// byte-identical files.
const VersionsFile = "versions.json"

// exportedAtLayout is the timestamp layout of $Meta.ExportedAt in the Library.
const exportedAtLayout = "2006-01-02T15:04:05.000Z"

// Lock is the content of the versions file, by template key.
type Lock map[string]LockEntry

// LockEntry is one template's record in the versions file.
type LockEntry struct {
	Hash       string `json:"hash"`
	Version    int    `json:"version"`
	ExportedAt string `json:"exported_at"`
}

// ReadLock reads dir's versions file; a missing file is an empty lock.
func ReadLock(dir string) (Lock, error) {
	b, err := os.ReadFile(filepath.Join(dir, VersionsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Lock{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read template versions: %w", err)
	}
	var l Lock
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("read template versions %s: %w", filepath.Join(dir, VersionsFile), err)
	}
	if l == nil {
		l = Lock{}
	}
	return l, nil
}

// ContentHash hashes everything in t that a user could notice: the whole
// rendered template except Version and $Meta.ExportedAt, which Stamp derives
// from the hash.
func ContentHash(t Template) string {
	t.Version = 0
	t.Meta.ExportedAt = ""
	b, err := Render(t)
	if err != nil {
		// Render only fails for values JSON cannot hold, which Template
		// does not have.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Stamp sets Version and $Meta.ExportedAt on each generated template from
// lock: an unchanged template keeps its recorded values, a changed one gets
// the next Version and now as ExportedAt, a new one Version 1. It returns
// the updated lock (holding only the generated keys) and the keys whose
// content changed.
func Stamp(gen []Generated, lock Lock, now time.Time) (Lock, []string) {
	next := Lock{}
	var changed []string
	for i := range gen {
		g := &gen[i]
		h := ContentHash(g.Template)
		e, ok := lock[g.Key]
		if !ok || e.Hash != h {
			e = LockEntry{Hash: h, Version: e.Version + 1, ExportedAt: now.UTC().Format(exportedAtLayout)}
			changed = append(changed, g.Key)
		}
		g.Template.Version = e.Version
		g.Template.Meta.ExportedAt = e.ExportedAt
		next[g.Key] = e
	}
	return next, changed
}

// Render encodes a template as the Library stores it: two-space indented
// JSON, no HTML escaping, no byte-order mark, a final newline.
func Render(t Template) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("encode template %q: %w", t.Name, err)
	}
	return buf.Bytes(), nil
}

func renderLock(l Lock) ([]byte, error) {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ExportResult says what Export did.
type ExportResult struct {
	// Written lists every template file, sorted.
	Written []string
	// Changed lists the keys whose content (and so Version) changed.
	Changed []string
	// Removed lists stale bluegreen-*.json files that were deleted.
	Removed []string
}

// Export writes one file per template into dir, plus the versions file,
// and deletes bluegreen-*.json files of kinds that no longer exist. now is
// the ExportedAt of templates whose content changed.
func Export(dir string, reg *steps.Registry, now time.Time) (*ExportResult, error) {
	lock, err := ReadLock(dir)
	if err != nil {
		return nil, err
	}
	gen := Generate(reg)
	next, changed := Stamp(gen, lock, now)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create template directory: %w", err)
	}
	res := &ExportResult{Changed: changed}
	for _, g := range gen {
		b, err := Render(g.Template)
		if err != nil {
			return nil, err
		}
		if err := writeIfChanged(filepath.Join(dir, g.File), b); err != nil {
			return nil, err
		}
		res.Written = append(res.Written, g.File)
	}
	stale, err := staleFiles(dir, gen)
	if err != nil {
		return nil, err
	}
	for _, f := range stale {
		if err := os.Remove(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("remove stale template: %w", err)
		}
		res.Removed = append(res.Removed, f)
	}
	lb, err := renderLock(next)
	if err != nil {
		return nil, err
	}
	if err := writeIfChanged(filepath.Join(dir, VersionsFile), lb); err != nil {
		return nil, err
	}
	sort.Strings(res.Written)
	return res, nil
}

// writeIfChanged leaves a file that already has the content alone, so an
// export of an unchanged registry does not even touch mtimes.
func writeIfChanged(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Stale compares dir with what Export would write for reg and describes
// every difference; an empty result means dir is current. It never writes.
func Stale(dir string, reg *steps.Registry) ([]string, error) {
	lock, err := ReadLock(dir)
	if err != nil {
		return nil, err
	}
	gen := Generate(reg)
	next, changed := Stamp(gen, lock, time.Time{})
	var diffs []string
	for _, k := range changed {
		diffs = append(diffs, fmt.Sprintf("%s: content changed since the last export (versions.json has another hash)", k))
	}
	for _, g := range gen {
		want, err := Render(g.Template)
		if err != nil {
			return nil, err
		}
		have, err := os.ReadFile(filepath.Join(dir, g.File))
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: %v", g.File, err))
			continue
		}
		if !bytes.Equal(have, want) {
			diffs = append(diffs, fmt.Sprintf("%s: differs from the generated template", g.File))
		}
	}
	for k := range lock {
		if _, ok := next[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: in versions.json but no longer generated", k))
		}
	}
	stale, err := staleFiles(dir, gen)
	if err != nil {
		return nil, err
	}
	for _, f := range stale {
		diffs = append(diffs, fmt.Sprintf("%s: no step generates it any more", f))
	}
	sort.Strings(diffs)
	return diffs, nil
}

// staleFiles returns the names of the bluegreen-*.json files in dir that
// gen no longer produces: templates of kinds that were removed or renamed.
func staleFiles(dir string, gen []Generated) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "bluegreen-*.json"))
	if err != nil {
		return nil, fmt.Errorf("list templates in %s: %w", dir, err)
	}
	var out []string
	for _, f := range files {
		base := filepath.Base(f)
		if !slices.ContainsFunc(gen, func(g Generated) bool { return g.File == base }) {
			out = append(out, base)
		}
	}
	return out, nil
}
