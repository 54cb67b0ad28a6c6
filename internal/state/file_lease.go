package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// EncodeRecord stamps the format version, bounds the history and encodes
// rec without modifying it. Every store saves through it, so the history has
// one bound (MaxHistory) whatever the store.
func EncodeRecord(rec *Record, indent bool) ([]byte, error) {
	out := *rec
	out.Format = FormatVersion
	out.History = BoundHistory(rec.History, MaxHistory)
	var b []byte
	var err error
	if indent {
		b, err = json.MarshalIndent(&out, "", "  ")
	} else {
		b, err = json.Marshal(&out)
	}
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return b, nil
}

// held checks, under key's guard, that runID holds key's lock.
func (s *FileStore) held(key, runID string) error {
	lockPath, err := s.LockPath(key)
	if err != nil {
		return err
	}
	cur, err := readHolder(lockPath)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, errCorruptLock):
		return &LeaseLostError{Key: key, RunID: runID}
	case err != nil:
		return fmt.Errorf("read lock %q: %w", key, err)
	case cur.RunID != runID:
		return &LeaseLostError{Key: key, RunID: runID, Holder: cur}
	}
	return nil
}

// newerOnDisk refuses to replace a record this build cannot read.
func (s *FileStore) newerOnDisk(key, path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("save state %q: %w", key, err)
	}
	var head struct {
		Format int `json:"format"`
	}
	if json.Unmarshal(b, &head) == nil && head.Format > FormatVersion {
		return &FormatError{Key: key, Reason: fmt.Sprintf("the stored record has format %d and this bluegreen writes format %d", head.Format, FormatVersion)}
	}
	return nil
}

// SaveHeld is Save fenced by key's lock: see Store.SaveHeld. The lock
// check and the write happen under the key's guard, so no takeover can
// slip between them.
func (s *FileStore) SaveHeld(ctx context.Context, key, runID string, rec *Record) error {
	if runID == "" {
		return fmt.Errorf("save state %q: run id is empty", key)
	}
	return s.save(ctx, key, runID, rec)
}

// Renew extends runID's lease on key: see Store.Renew.
func (s *FileStore) Renew(ctx context.Context, key, runID string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lockPath, err := s.LockPath(key)
	if err != nil {
		return err
	}
	unlock, err := s.guard(key, true)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.held(key, runID); err != nil {
		return err
	}
	cur, err := readHolder(lockPath)
	if err != nil {
		return fmt.Errorf("renew lock %q: %w", key, err)
	}
	cur.Expires = until.UTC()
	b, err := json.Marshal(cur)
	if err != nil {
		return fmt.Errorf("renew lock %q: %w", key, err)
	}
	// Replaced atomically: a reader under the shared guard never sees a
	// half-written holder.
	if err := writeAtomic(lockPath, b); err != nil {
		return fmt.Errorf("renew lock %q: %w", key, err)
	}
	return nil
}

// Break removes key's lock whoever holds it: see Store.Break.
func (s *FileStore) Break(ctx context.Context, key string) (*Holder, error) {
	lockPath, unlock, err := s.guardLock(ctx, key, true)
	if err != nil || unlock == nil {
		return nil, err
	}
	defer unlock()
	cur, err := readHolder(lockPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.Is(err, errCorruptLock):
		cur = &Holder{RunID: "(damaged lock file)"}
	case err != nil:
		return nil, fmt.Errorf("break lock %q: %w", key, err)
	}
	if err := s.removeLock(lockPath); err != nil {
		return nil, fmt.Errorf("break lock %q: %w", key, err)
	}
	return cur, nil
}

// guardLock checks ctx and key and, when key's lock file exists, takes the
// key's guard (exclusive to change the lock, shared to read it). Without a
// lock file there is nothing to read or remove: it returns a nil unlock and
// takes no guard.
func (s *FileStore) guardLock(ctx context.Context, key string, exclusive bool) (lockPath string, unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	lockPath, err = s.LockPath(key)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(lockPath); errors.Is(err, fs.ErrNotExist) {
		return lockPath, nil, nil
	}
	unlock, err = s.guard(key, exclusive)
	if err != nil {
		return "", nil, err
	}
	return lockPath, unlock, nil
}

// removeLock deletes a lock file (one already gone is fine) and syncs the
// directory, so that the removal survives a crash.
func (s *FileStore) removeLock(lockPath string) error {
	if err := os.Remove(lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(s.dir)
}
