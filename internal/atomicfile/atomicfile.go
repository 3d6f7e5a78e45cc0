// Package atomicfile writes files so that readers see the old content or
// the new, never a part, and a set of files all new or all old.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// File is one file to write.
type File struct {
	Path string
	Data []byte
	// Perm is the mode of a new file; a file that exists keeps its mode
	// (and, when wslb runs as root, its owner).
	Perm fs.FileMode
}

// WriteFile writes one file atomically; see WriteFiles.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteFiles([]File{{Path: path, Data: data, Perm: perm}})
}

// rename and link are os.Rename and os.Link; tests replace them to make
// them fail.
var (
	rename = os.Rename
	link   = os.Link
)

// WriteFiles writes every file or none. Each is written to a temporary
// file beside it and synced; only then are they renamed into place, in
// order. If a rename fails, the files already renamed are put back as
// they were (restored from a hard link kept to each old file, or removed
// when there was none) and the error names the file that failed.
func WriteFiles(files []File) (err error) {
	temps := make([]string, len(files))
	backups := make([]string, len(files))
	defer func() {
		for i := range files {
			for _, p := range []string{temps[i], backups[i]} {
				if p != "" {
					_ = os.Remove(p) // gone once renamed
				}
			}
		}
	}()
	for i, f := range files {
		if temps[i], err = writeTemp(f); err != nil {
			return err
		}
		// Keep the old file under a second name, to restore it: a hard
		// link, or a copy where the file system has none.
		if _, serr := os.Lstat(f.Path); serr == nil {
			backup := temps[i] + ".old"
			if lerr := link(f.Path, backup); lerr != nil {
				if cerr := copyFile(f.Path, backup); cerr != nil {
					return fmt.Errorf("write %s: keep the old file: %w", f.Path, errors.Join(lerr, cerr))
				}
			}
			backups[i] = backup
		}
	}
	for i, f := range files {
		if rerr := rename(temps[i], f.Path); rerr != nil {
			err = fmt.Errorf("write %s: %w", f.Path, rerr)
			for j := i - 1; j >= 0; j-- {
				if uerr := restore(files[j].Path, backups[j]); uerr != nil {
					err = errors.Join(err, uerr)
				}
			}
			return err
		}
		temps[i] = ""
	}
	return nil
}

// copyFile copies the regular file at from to a new file to, with its mode.
func copyFile(from, to string) error {
	fi, err := os.Lstat(from)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", from)
	}
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// restore puts back the file at path as it was before: its old content
// from backup, or no file when there was none.
func restore(path, backup string) error {
	if backup == "" {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("undo %s: %w", path, err)
		}
		return nil
	}
	if err := os.Rename(backup, path); err != nil {
		return fmt.Errorf("restore %s: %w", path, err)
	}
	return nil
}

// writeTemp writes f's data to a new temporary file in f's directory with
// the mode (and owner) f.Path has, or f.Perm for a new file.
func writeTemp(f File) (string, error) {
	dir, base := filepath.Split(f.Path)
	if dir == "" {
		dir = "."
	}
	mode := f.Perm
	uid, gid := -1, -1
	if fi, err := os.Stat(f.Path); err == nil {
		mode = fi.Mode().Perm()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && os.Geteuid() == 0 {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	t, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", f.Path, err)
	}
	name := t.Name()
	_, err = t.Write(f.Data)
	if err == nil {
		err = t.Sync()
	}
	if err == nil {
		// CreateTemp makes the file private; chmod is not subject to umask.
		err = t.Chmod(mode)
	}
	if err == nil && uid >= 0 {
		err = t.Chown(uid, gid)
	}
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return "", fmt.Errorf("write %s: %w", f.Path, err)
	}
	return name, nil
}
