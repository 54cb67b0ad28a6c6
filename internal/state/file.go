package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// FileStore is the default Store: a directory with one JSON record per key
// (<key>.json) and one lock file per key (<key>.lock) naming its holder.
//
// Records are written atomically: a temp file in the same directory is
// written and fsynced, renamed over the record, and the directory is fsynced
// so the rename itself survives a crash. A reader therefore sees the old
// record or the new one, never a torn write; a temp file left behind by a
// crash is never read.
//
// A lock is a file created with O_CREATE|O_EXCL, which only one creator can
// win, holding the Holder as JSON. Everything that inspects or replaces a
// lock file runs under an flock on a per-key guard file that is never
// removed, so two processes that both find the same stale lock cannot both
// take it over. The kernel drops an flock when its process dies, so a crash
// never leaves the guard held.
type FileStore struct {
	dir string
	// hostname and alive are seams: tests and other platforms may replace
	// how the store learns its own host and whether a pid still runs.
	hostname func() (string, error)
	alive    func(pid int) bool
}

var _ Store = (*FileStore)(nil)

// NewFileStore returns a store on dir. It touches nothing: the directory is
// created by the first write, so read-only commands (status, plan) leave no
// trace. It fails only when dir is empty or names something that is not a
// directory.
func NewFileStore(dir string) (*FileStore, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("file state store: directory is empty")
	}
	dir = filepath.Clean(dir)
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("file state store: %s is not a directory", dir)
	}
	return &FileStore{dir: dir, hostname: os.Hostname, alive: processAlive}, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// String names the store for logs and status output.
func (s *FileStore) String() string { return "file:" + s.dir }

// RecordPath returns the file that holds key's record.
func (s *FileStore) RecordPath(key string) (string, error) {
	name, err := FileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name+".json"), nil
}

// LockPath returns the file that holds key's lock.
func (s *FileStore) LockPath(key string) (string, error) {
	name, err := FileName(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, name+".lock"), nil
}

// maxNameLen keeps file names well below the 255 bytes most file systems
// allow, leaving room for the suffixes and temp-file decorations.
const maxNameLen = 100

// FileName turns a key into a safe file name (without extension). Letters,
// digits, '-', '_' and '.' are kept; anything else becomes '_' and a leading
// '.' is replaced so a key can never name a hidden file or a parent
// directory. When the name had to change, a short hash of the key is
// appended so that two different keys ("a/b" and "a_b") never share a file.
func FileName(key string) (string, error) {
	if key == "" {
		return "", errors.New("state key is empty")
	}
	var b strings.Builder
	changed := false
	for i, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	name := b.String()
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
		changed = true
	}
	if changed {
		sum := sha256.Sum256([]byte(key))
		name += "-" + hex.EncodeToString(sum[:4])
	}
	return name, nil
}

// Load returns key's record, or (nil, nil) when there is none.
func (s *FileStore) Load(ctx context.Context, key string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, err := s.RecordPath(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %q: %w", key, err)
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("load state %q: %s is not a valid record: %w", key, path, err)
	}
	if err := rec.Check(key); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Save replaces key's record atomically and durably. The history is
// bounded (BoundHistory); rec itself is not modified. A stored record of a
// newer format is never replaced.
func (s *FileStore) Save(ctx context.Context, key string, rec *Record) error {
	return s.save(ctx, key, "", rec)
}

// save writes rec under key's guard; with a runID, only while that run
// holds key's lock.
func (s *FileStore) save(ctx context.Context, key, runID string, rec *Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rec == nil {
		return fmt.Errorf("save state %q: record is nil", key)
	}
	path, err := s.RecordPath(key)
	if err != nil {
		return err
	}
	b, err := EncodeRecord(rec, true)
	if err != nil {
		return fmt.Errorf("save state %q: %w", key, err)
	}
	if err := s.mkdir(); err != nil {
		return err
	}
	unlock, err := s.guard(key, true)
	if err != nil {
		return err
	}
	defer unlock()
	if runID != "" {
		if err := s.held(key, runID); err != nil {
			return err
		}
	}
	if err := s.newerOnDisk(key, path); err != nil {
		return err
	}
	if err := writeAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("save state %q: %w", key, err)
	}
	return nil
}

// Acquire takes key's lock for h. See Store.Acquire.
func (s *FileStore) Acquire(ctx context.Context, key string, h Holder) (*Takeover, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	lockPath, err := s.LockPath(key)
	if err != nil {
		return nil, err
	}
	holder, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("acquire lock %q: encode holder: %w", key, err)
	}
	if err := s.mkdir(); err != nil {
		return nil, err
	}
	unlock, err := s.guard(key, true)
	if err != nil {
		return nil, err
	}
	defer unlock()

	var takeover *Takeover
	cur, err := readHolder(lockPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Free: create it below.
	case errors.Is(err, errCorruptLock):
		// The guard is held while a lock file is written, so a lock file
		// that does not parse under the guard was left by a process that
		// died between creating and filling it: nobody holds it.
		takeover = &Takeover{Reason: "the lock file was empty or damaged (its writer died while acquiring)"}
	case err != nil:
		return nil, fmt.Errorf("acquire lock %q: %w", key, err)
	case cur.RunID == h.RunID && cur.PID == h.PID && cur.Host == h.Host:
		// The holder asks again (a retried call): it already has the lock.
		return nil, nil
	default:
		reason, stale := s.stale(*cur)
		if !stale {
			return nil, &LockedError{Key: key, Holder: *cur}
		}
		takeover = &Takeover{Previous: *cur, Reason: reason}
	}
	if takeover != nil {
		if err := os.Remove(lockPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("acquire lock %q: remove stale lock: %w", key, err)
		}
	}
	if err := createExclusive(lockPath, holder); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Only a writer that ignores the guard (another host on a
			// shared file system without flock) can get here; report the
			// lock as held by whoever won.
			if cur, rerr := readHolder(lockPath); rerr == nil {
				return nil, &LockedError{Key: key, Holder: *cur}
			}
			return nil, &LockedError{Key: key}
		}
		return nil, fmt.Errorf("acquire lock %q: %w", key, err)
	}
	if err := syncDir(s.dir); err != nil {
		return nil, fmt.Errorf("acquire lock %q: %w", key, err)
	}
	return takeover, nil
}

// Release removes key's lock when runID holds it. Releasing a lock that is
// not held is not an error (Release is safe to call twice); releasing a lock
// that another run holds is, and leaves the lock in place.
func (s *FileStore) Release(ctx context.Context, key string, runID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lockPath, err := s.LockPath(key)
	if err != nil {
		return err
	}
	if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	unlock, err := s.guard(key, true)
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := readHolder(lockPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil && !errors.Is(err, errCorruptLock):
		return fmt.Errorf("release lock %q: %w", key, err)
	case err == nil && cur.RunID != runID:
		return fmt.Errorf("release lock %q: held by %s, not by run %s", key, cur, runID)
	}
	if err := s.removeLock(lockPath); err != nil {
		return fmt.Errorf("release lock %q: %w", key, err)
	}
	return nil
}

// Holder returns key's lock holder, or nil when the lock is free.
func (s *FileStore) Holder(ctx context.Context, key string) (*Holder, error) {
	// A shared guard waits out an Acquire that is still filling the file.
	lockPath, unlock, err := s.guardLock(ctx, key, false)
	if err != nil || unlock == nil {
		return nil, err
	}
	defer unlock()
	cur, err := readHolder(lockPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock %q: %w", key, err)
	}
	return cur, nil
}

// stale reports whether the holder is gone: its lease ended, or it ran on
// this host and its process no longer exists.
func (s *FileStore) stale(h Holder) (string, bool) {
	return staleHolder(h, s.hostname, s.alive)
}

func (s *FileStore) mkdir() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("file state store: create %s: %w", s.dir, err)
	}
	return nil
}

// guard takes the flock on key's guard file (exclusive or shared) and
// returns the function that drops it.
func (s *FileStore) guard(key string, exclusive bool) (func(), error) {
	name, err := FileName(key)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(s.dir, "."+name+".guard")
	var f *os.File
	if exclusive {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	} else {
		// Readers create nothing (a status check must work on a store it
		// cannot write). Acquire creates the guard before the lock file,
		// so when there is no guard there is no writer to wait for.
		f, err = os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			return func() {}, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock guard %q: %w", key, err)
	}
	if err := flock(f, exclusive); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock guard %q: flock %s: %w", key, path, err)
	}
	return func() { f.Close() }, nil // closing the descriptor drops the flock
}

var errCorruptLock = errors.New("lock file is empty or damaged")

func readHolder(path string) (*Holder, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var h Holder
	if err := json.Unmarshal(b, &h); err != nil || h.RunID == "" {
		return nil, fmt.Errorf("%s: %w", path, errCorruptLock)
	}
	return &h, nil
}

// createExclusive creates path, failing with fs.ErrExist if it exists, and
// writes b to it durably.
func createExclusive(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return f.Close()
}

// writeAtomic replaces path with b: temp file in the same directory (a
// rename is only atomic within one file system), fsync, rename, fsync of
// the directory.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		return fail(fmt.Errorf("write %s: %w", tmpName, err))
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(fmt.Errorf("chmod %s: %w", tmpName, err))
	}
	if err := tmp.Sync(); err != nil {
		return fail(fmt.Errorf("fsync %s: %w", tmpName, err))
	}
	if err := tmp.Close(); err != nil {
		return fail(fmt.Errorf("close %s: %w", tmpName, err))
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("rename %s: %w", tmpName, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename, create or remove in dir durable. File systems
// that cannot fsync a directory say so with EINVAL; for them there is
// nothing more to do.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
