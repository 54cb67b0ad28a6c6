package host

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic replaces path with data so that a reader (nginx reading
// its include file) sees either the old content or the new one, never a
// half-written file: it writes a temporary file in the same directory,
// syncs it, renames it over path and syncs the directory so the rename
// survives a crash.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".bluegreen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once the rename succeeded
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// symlinkAtomic points link at target: it creates the new link beside the
// old one and renames it over, which rename(2) does atomically, so a web
// server resolving the link sees the old folder or the new one and never a
// missing path.
func symlinkAtomic(target, link string) error {
	dir := filepath.Dir(link)
	for i := 0; ; i++ {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.bluegreen-%d-%d", filepath.Base(link), os.Getpid(), i))
		err := os.Symlink(target, tmp)
		if os.IsExist(err) && i < 100 {
			continue // a leftover from a crashed run; pick another name
		}
		if err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			return err
		}
		return syncDir(dir)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
