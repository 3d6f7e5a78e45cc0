package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// trampoline runs in the freshly cloned child: it finishes the box and
// execs the proxy. It returns only on failure, with the exit status.
func trampoline(raw string) int {
	goruntime.LockOSThread() // namespace and exec calls act on this thread
	var spec boxSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return fail("read spec", err)
	}
	unix.CloseOnExec(exeFD)
	// Join the proxy's host first: the /sys mounted below is then its.
	if spec.NetNS != "" {
		if err := joinNetNS(spec.NetNS); err != nil {
			return fail("join network namespace "+spec.NetNS, err)
		}
	}
	if spec.Isolated {
		if !spec.SharedNet {
			if code := setUpNetwork(); code != 0 {
				return code
			}
		}
		mounts := func() error { return privateMounts(spec.Dir, spec.DropTo) }
		if spec.Root != "" {
			mounts = func() error { return rootMounts(spec.Root, spec.Dir, spec.DropTo) }
		}
		if err := mounts(); err != nil {
			return fail("mounts", err)
		}
	}
	if os.Getenv(probeEnv) != "" {
		return 0
	}
	if err := unix.Chdir(spec.Dir); err != nil {
		return fail("chdir", err)
	}
	if err := setLimits(spec.Limits); err != nil {
		return fail("limits", err)
	}
	if spec.DropTo != 0 {
		if err := dropTo(spec.DropTo); err != nil {
			return fail("drop privileges", err)
		}
	}
	// No setuid binary may give back what the box took away.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail("no_new_privs", err)
	}
	// By its open file (left open across exec, or a script's interpreter
	// could not read it); the proxy still sees its own name as argv[0].
	// A binary in a root filesystem sees itself at its path there.
	argv0 := spec.Binary
	if spec.Root != "" {
		argv0 = "/" + strings.TrimLeft(strings.TrimPrefix(spec.Binary, spec.Root), "/")
	}
	argv := append([]string{argv0}, spec.Args...)
	err := unix.Exec(fmt.Sprintf("/proc/self/fd/%d", binaryFD), argv, []string{ProxyPath})
	return fail("exec "+spec.Binary, err)
}

func fail(step string, err error) int {
	fmt.Fprintf(os.Stderr, "%s%s: %v\n", TrampolineFailed, step, err)
	return 125
}

// setUpNetwork readies a fresh network namespace: lo up, and every port
// bindable by the unprivileged user. It returns 0, or fail's status.
func setUpNetwork() int {
	if err := loopbackUp(); err != nil {
		return fail("bring lo up", err)
	}
	if err := lowPortsForAll(); err != nil {
		return fail("allow low ports", err)
	}
	return 0
}

// joinNetNS moves this thread (the only one that execs) into the network
// namespace at path and lets the box's user bind any port there.
func joinNetNS(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return err
	}
	return lowPortsForAll()
}

// loopbackUp brings lo up in the current network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// lowPortsForAll lets the box's unprivileged user bind the ports a config
// names, privileged or not, in the box's own network namespace (only lo).
func lowPortsForAll() error {
	return os.WriteFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", []byte("0"), 0)
}

// privateMounts makes every mount read-only, mounts a private /tmp and
// /proc, and binds the scratch dir back writable at its own path.
func privateMounts(dir string, owner int) error {
	// Hold the scratch dir before /tmp is covered.
	scratch, err := holdScratch(dir)
	if err != nil {
		return err
	}
	defer unix.Close(scratch)
	ro := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, ro); err != nil {
		return fmt.Errorf("make / read-only: %w", err)
	}
	for _, d := range writableDirs {
		if err := mirrorDir(d, owner); err != nil {
			return err
		}
	}
	if err := privateTmp(); err != nil {
		return err
	}
	if dir != "/" {
		if owner != 0 {
			if err := makeReachable(dir); err != nil {
				return err
			}
		}
		if _, err := os.Stat(dir); err != nil {
			// Below a directory now covered by a tmpfs.
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		if err := bindScratch(scratch, dir, dir); err != nil {
			return err
		}
	}
	if err := mountProc("/proc"); err != nil {
		return err
	}
	mountSys("/sys")
	return nil
}

// holdScratch makes the mount tree private (nothing the box mounts
// reaches the host) and opens the scratch dir dir, to bind it back once
// the mounts above cover its path.
func holdScratch(dir string) (int, error) {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return -1, fmt.Errorf("make / private: %w", err)
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", dir, err)
	}
	return fd, nil
}

// bindScratch binds the scratch dir held open as scratch (holdScratch)
// at target, writable; dir is its path, for errors.
func bindScratch(scratch int, target, dir string) error {
	if err := unix.Mount(fdPath(scratch), target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", dir, err)
	}
	rw := &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, rw); err != nil {
		return fmt.Errorf("make %s writable: %w", dir, err)
	}
	return nil
}

// mountSys gives the box a /sys of its own network namespace, so the
// host's interfaces do not show. Where the kernel refuses (a user
// namespace that does not own the network namespace) the host's stays,
// read-only.
func mountSys(at string) {
	_ = unix.Mount("sysfs", at, "sysfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "")
}

// writableDirs are where configs usually put pid files, logs, sockets and
// temp files. Each gets an empty tmpfs owned by the box's user holding
// empty copies of its subdirectories, so /run/nginx.pid or
// /var/log/nginx/error.log can be written (inside the box, gone with it)
// and an ordinary config passes its check, while nothing reaches the host.
var writableDirs = []string{"/run", "/var/log", "/var/lib", "/var/cache", "/var/tmp", "/var/spool"}

func mirrorDir(dir string, owner int) error {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return nil // absent, or a symlink (/var/run -> /run) into another
	}
	entries, _ := os.ReadDir(dir)
	opts := fmt.Sprintf("mode=0755,size=64m,uid=%d,gid=%d", owner, owner)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Mkdir(p, 0o755); err != nil {
			return err
		}
		if err := os.Lchown(p, owner, owner); err != nil {
			return err
		}
	}
	return nil
}

// privateTmp puts a copy-on-write layer over /tmp: files there stay
// readable (a config's certificates or includes in a temp checkout) and
// whatever the box writes lands in a tmpfs that goes with it. Where
// overlayfs is refused, /tmp is an empty tmpfs.
func privateTmp() error {
	const stage = "/run/.wslb-box-tmp"
	err := os.MkdirAll(stage+"/upper", 0o1777)
	if err == nil {
		err = os.MkdirAll(stage+"/work", 0o700)
	}
	if err == nil {
		if err = os.Chmod(stage+"/upper", 0o1777); err == nil {
			err = unix.Mount("overlay", "/tmp", "overlay", unix.MS_NOSUID|unix.MS_NODEV,
				"lowerdir=/tmp,upperdir="+stage+"/upper,workdir="+stage+"/work")
		}
	}
	if err == nil {
		return nil
	}
	if err2 := unix.Mount("tmpfs", "/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777,size=64m"); err2 != nil {
		return fmt.Errorf("mount /tmp: %v; tmpfs: %w", err, err2)
	}
	return nil
}

// makeReachable lets the box's user walk to dir: the first directory above
// it that others may not search (a private TMPDIR) is covered with an
// empty tmpfs holding just the path down to dir, which is bound there next.
// What else that directory holds was not the box's to see anyway.
func makeReachable(dir string) error {
	parts := strings.Split(strings.Trim(filepath.Dir(dir), "/"), "/")
	for i := range parts {
		a := "/" + filepath.Join(parts[:i+1]...)
		fi, err := os.Stat(a)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 != 0 {
			continue
		}
		if err := unix.Mount("tmpfs", a, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
			return fmt.Errorf("cover %s: %w", a, err)
		}
		return os.MkdirAll(dir, 0o755)
	}
	return nil
}

// mountProc gives the box a /proc showing only its own processes, so no
// other process's environment or files can be read through it; where the
// kernel refuses (a /proc with parts masked), an empty read-only one.
func mountProc(at string) error {
	err := unix.Mount("proc", at, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "")
	if err == nil {
		return nil
	}
	if err2 := unix.Mount("tmpfs", at, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_RDONLY, "size=4k"); err2 != nil {
		return fmt.Errorf("mount /proc: %v; cover it: %w", err, err2)
	}
	return nil
}

func setLimits(l Limits) error {
	for _, r := range []struct {
		res int
		max uint64
	}{
		{unix.RLIMIT_AS, l.AddressSpace},
		{unix.RLIMIT_CPU, l.CPUSeconds},
		{unix.RLIMIT_NPROC, l.Processes},
		{unix.RLIMIT_CORE, 0},
	} {
		var cur unix.Rlimit
		if err := unix.Getrlimit(r.res, &cur); err != nil {
			return err
		}
		lim := unix.Rlimit{Cur: min(cur.Cur, r.max), Max: min(cur.Max, r.max)}
		if err := unix.Setrlimit(r.res, &lim); err != nil {
			return fmt.Errorf("rlimit %d: %w", r.res, err)
		}
	}
	return nil
}

// dropTo makes the process an ordinary user with no capability. A change
// of credentials clears the parent-death signal: set it again.
func dropTo(id int) error {
	if err := syscall.Setgroups(nil); err != nil {
		return err
	}
	if err := syscall.Setresgid(id, id, id); err != nil {
		return err
	}
	if err := syscall.Setresuid(id, id, id); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0)
}
