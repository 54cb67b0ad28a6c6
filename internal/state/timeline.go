package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Timelines is implemented by stores that keep each run's timeline: the
// redacted events and final journal that a run report is drawn from. It is
// kept apart from the Record so that the record stays small (it is read and
// written at every step) while any run in the history can still be shown
// again. The data is opaque to the store (the report package encodes it).
type Timelines interface {
	// PutTimeline stores the timeline of run runID of key, replacing any.
	PutTimeline(ctx context.Context, key, runID string, data []byte) error
	// GetTimeline returns it, or (nil, nil) when there is none.
	GetTimeline(ctx context.Context, key, runID string) ([]byte, error)
}

var runIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

// CheckRunID refuses a run id that cannot name a file or a key: every
// store checks the ids it is given through it.
func CheckRunID(runID string) error {
	if !runIDRe.MatchString(runID) {
		return fmt.Errorf("run id %q: expected letters, digits, '-', '_' or '.'", runID)
	}
	return nil
}

// RunsDir returns the directory that holds key's run timelines (and the
// run reports the CLI writes beside them).
func (s *FileStore) RunsDir(key string) (string, error) {
	name, err := FileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name+".runs"), nil
}

// PutTimeline writes <key>.runs/<run id>.timeline atomically and keeps
// only the newest MaxHistory timelines (run ids start with their time, so
// they sort by age).
func (s *FileStore) PutTimeline(ctx context.Context, key, runID string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := CheckRunID(runID); err != nil {
		return err
	}
	dir, err := s.RunsDir(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save timeline of run %s: %w", runID, err)
	}
	if err := writeAtomic(filepath.Join(dir, runID+".timeline"), data); err != nil {
		return fmt.Errorf("save timeline of run %s: %w", runID, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".timeline"); ok && !strings.HasPrefix(id, ".") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for len(ids) > MaxHistory {
		// Pruning is best effort: a timeline left behind is harmless.
		_ = os.Remove(filepath.Join(dir, ids[0]+".timeline"))
		_ = os.Remove(filepath.Join(dir, ids[0]+".html"))
		ids = ids[1:]
	}
	return nil
}

// GetTimeline reads a timeline written by PutTimeline.
func (s *FileStore) GetTimeline(ctx context.Context, key, runID string) ([]byte, error) {
	if err := CheckRunID(runID); err != nil {
		return nil, err
	}
	dir, err := s.RunsDir(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, runID+".timeline"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}
