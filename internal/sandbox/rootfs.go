package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// rootMounts makes the root filesystem at root (another Debian release's,
// holding another proxy version) the box's root: a read-only copy of its
// directories on an empty tmpfs, with a private /proc, /tmp, /dev holding
// only the harmless devices, the usual writable dirs as tmpfs, and the
// scratch dir bound writable at its own path. Nothing of the host's file
// system is left in the box.
func rootMounts(root, dir string, owner int) error {
	// Held open: the mount points below cover their paths.
	scratch, err := holdScratch(dir)
	if err != nil {
		return err
	}
	defer unix.Close(scratch)
	rootFD, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", root, err)
	}
	defer unix.Close(rootFD)
	top, err := os.ReadDir(fdPath(rootFD))
	if err != nil {
		return fmt.Errorf("read %s: %w", root, err)
	}

	// The new root is a tmpfs over the root filesystem's own path, so no
	// directory has to be made on the host.
	newRoot := root
	if err := unix.Mount("tmpfs", newRoot, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=16m"); err != nil {
		return fmt.Errorf("mount the new root: %w", err)
	}
	in := func(p string) string { return filepath.Join(newRoot, p) }
	ro := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
	for _, e := range top {
		name := e.Name()
		src := filepath.Join(fdPath(rootFD), name)
		switch {
		case name == "proc" || name == "dev" || name == "tmp" || name == "sys" || strings.HasPrefix(name, "."):
			continue // made below, or not the proxy's
		case e.Type()&os.ModeSymlink != 0: // /bin -> usr/bin on a merged /usr
			target, err := os.Readlink(src)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, in(name)); err != nil {
				return err
			}
		case e.IsDir():
			if err := os.Mkdir(in(name), 0o755); err != nil {
				return err
			}
			if err := unix.Mount(src, in(name), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
				return fmt.Errorf("bind %s: %w", name, err)
			}
			if err := unix.MountSetattr(unix.AT_FDCWD, in(name), unix.AT_RECURSIVE, ro); err != nil {
				return fmt.Errorf("make %s read-only: %w", name, err)
			}
		}
	}
	for _, d := range writableDirs {
		if err := mirrorDir(in(d), owner); err != nil {
			return err
		}
	}
	if err := os.Mkdir(in("tmp"), 0o1777); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", in("tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777,size=64m"); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	if err := devices(in("dev")); err != nil {
		return err
	}
	if dir != "/" {
		if err := mountPoint(newRoot, dir); err != nil {
			return err
		}
		if err := bindScratch(scratch, in(dir), dir); err != nil {
			return err
		}
	}
	for _, d := range []string{"proc", "sys"} {
		if err := os.Mkdir(in(d), 0o555); err != nil {
			return err
		}
	}
	// /proc and /sys of the box's own namespaces, mounted while the host's
	// are still there: a user namespace may mount a /proc only where one
	// is fully visible already.
	if err := mountProc(in("proc")); err != nil {
		return err
	}
	mountSys(in("sys"))
	if err := unix.Mount("", newRoot, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("make the new root read-only: %w", err)
	}
	return pivotInto(newRoot)
}

// devices gives the box a /dev holding null, zero, full, random and
// urandom (bound from the host's), and the stdio links configs log to.
func devices(dev string) error {
	if err := os.Mkdir(dev, 0o755); err != nil {
		return err
	}
	if err := unix.Mount("tmpfs", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=64k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom"} {
		p := filepath.Join(dev, name)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
		if err := unix.Mount("/dev/"+name, p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", name, err)
		}
	}
	for name, target := range map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	shm := filepath.Join(dev, "shm")
	if err := os.Mkdir(shm, 0o1777); err != nil {
		return err
	}
	return unix.Mount("tmpfs", shm, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=16m")
}

// mountPoint makes the path dir exist below newRoot, every directory on
// the way searchable by the box's user. Where the root filesystem itself
// has a directory on the way (/root, /home, /srv), that directory is
// covered by an empty tmpfs: the box is not meant to see what it holds.
func mountPoint(newRoot, dir string) error {
	parts := strings.Split(strings.Trim(dir, "/"), "/")
	for i := range parts[:len(parts)-1] {
		p := filepath.Join(newRoot, filepath.Join(parts[:i+1]...))
		fi, err := os.Lstat(p)
		if errors.Is(err, os.ErrNotExist) {
			break // in a tmpfs of the box's: made below
		}
		if err != nil {
			return err
		}
		if fi.IsDir() && unix.Access(p, unix.W_OK) == nil {
			continue // the new root or a tmpfs of the box's (/tmp, /var/tmp ...)
		}
		if !fi.IsDir() || !coverable(parts[0]) {
			return fmt.Errorf("the scratch dir %s cannot be placed in the root filesystem: /%s is its own", dir, filepath.Join(parts[:i+1]...))
		}
		if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
			return fmt.Errorf("cover %s: %w", p, err)
		}
		break
	}
	return os.MkdirAll(filepath.Join(newRoot, dir), 0o755)
}

// coverable reports whether a top-level directory of the root filesystem
// may be hidden under a tmpfs to place the scratch dir: never one the
// proxy's own files live in.
func coverable(top string) bool {
	switch top {
	case "usr", "etc", "lib", "lib64", "lib32", "libx32", "bin", "sbin", "var", "run", "boot", "proc", "dev", "sys":
		return false
	}
	return true
}

// pivotInto makes newRoot the root of this mount namespace and lets the
// old one go.
func pivotInto(newRoot string) error {
	if err := unix.Chdir(newRoot); err != nil {
		return fmt.Errorf("chdir %s: %w", newRoot, err)
	}
	// pivot_root(".", ".") stacks the old root under the new one at "/";
	// unmounting "." then detaches the old root.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	return unix.Chdir("/")
}

func fdPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }
