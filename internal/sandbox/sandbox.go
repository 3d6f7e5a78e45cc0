// Package sandbox runs every proxy process wslb starts (haproxy -c, nginx
// -t, and the proxy verify runs) in one kind of box, because the config it
// reads may come from an unreviewed pull request:
//
//   - a user namespace whose root is an unprivileged user on the host (a
//     range of otherwise unused uids when wslb is root, wslb's own uid
//     otherwise), so the proxy holds no capability over anything outside;
//   - a network namespace holding only lo: a fresh one for a check, or the
//     one the verify run lives in (see EnterRunNamespace), or the proxy's
//     host in a run of the netns driver (Spec.NetNS);
//   - a mount namespace where everything is read-only except the scratch
//     dir, with a private /tmp and a /proc that shows only the box;
//   - a PID namespace (the proxy is its init: when it dies, every process
//     in the box dies), a process group, and SIGKILL when wslb dies;
//   - an empty environment apart from PATH;
//   - limits on address space, CPU time and processes.
//
// The box is set up by a trampoline: wslb's own binary, started again with
// a spec in its environment, which an init function here picks up before
// main runs (so it works in test binaries too), sets the box up and execs
// the proxy.
package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
)

// specEnv carries the JSON Spec to the trampoline.
const specEnv = "WSLB_SANDBOX_SPEC"

// ProxyPath is the only environment the proxy gets.
const ProxyPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Limits bound what the boxed processes may use. Zero means the default.
type Limits struct {
	// AddressSpace is RLIMIT_AS in bytes, per process.
	AddressSpace uint64 `json:"as"`
	// CPUSeconds is RLIMIT_CPU, per process.
	CPUSeconds uint64 `json:"cpu"`
	// Processes is RLIMIT_NPROC: tasks (threads count) of the box's user.
	Processes uint64 `json:"nproc"`
}

// Defaults for Limits.
const (
	DefaultAddressSpace = 4 << 30
	DefaultCPUSeconds   = 3600
	DefaultProcesses    = 512
)

func (l Limits) withDefaults() Limits {
	if l.AddressSpace == 0 {
		l.AddressSpace = DefaultAddressSpace
	}
	if l.CPUSeconds == 0 {
		l.CPUSeconds = DefaultCPUSeconds
	}
	if l.Processes == 0 {
		l.Processes = DefaultProcesses
	}
	return l
}

// Spec says what to run in the box.
type Spec struct {
	// Binary is the proxy executable (absolute path) and Args its
	// arguments.
	Binary string   `json:"binary"`
	Args   []string `json:"args"`
	// Dir is the scratch dir: the only writable place on disk, and the
	// working directory. It must be an absolute path.
	Dir string `json:"dir"`
	// SharedNet keeps the caller's network namespace (verify, whose
	// backends and clients live there) instead of a fresh one holding only
	// lo (a config check).
	SharedNet bool `json:"shared_net,omitempty"`
	// NetNS, when set, is a network namespace (a path such as
	// /run/netns/NAME) the box joins instead: the proxy's own host in a
	// run of the netns driver. Joining one needs root.
	NetNS string `json:"netns,omitempty"`
	// Limits bound the box.
	Limits Limits `json:"limits"`
	// Root, when set, is a root filesystem (another Debian release's,
	// holding another proxy version) that becomes the box's root instead
	// of a read-only view of the host's; Binary must lie inside it. See
	// rootMounts.
	Root string `json:"root,omitempty"`
}

// boxSpec is what the trampoline gets: the caller's Spec and what Command
// decided about this machine.
type boxSpec struct {
	Spec
	Isolated bool `json:"isolated"`          // the namespaces can be built
	DropTo   int  `json:"drop_to,omitempty"` // uid and gid to become after setting up
}

// ErrUnavailable says no box can be built here: neither root nor an
// unprivileged user namespace.
var ErrUnavailable = errors.New("the proxy cannot be isolated here")

// UnavailableError tells why the box cannot be built.
type UnavailableError struct{ Reason error }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%v: creating a user namespace failed (%v); wslb needs root or unprivileged user namespaces "+
		"(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0, no AppArmor restriction) to run "+
		"a proxy on an untrusted config; --unsandboxed runs it without isolation", ErrUnavailable, e.Reason)
}

func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

var (
	policyMu    sync.Mutex
	unsandboxed bool
)

// AllowUnsandboxed lets proxies run without the box where it cannot be
// built (wslb --unsandboxed). The environment is still emptied and the
// limits still apply.
func AllowUnsandboxed(allow bool) {
	policyMu.Lock()
	defer policyMu.Unlock()
	unsandboxed = allow
}

func unsandboxedAllowed() bool {
	policyMu.Lock()
	defer policyMu.Unlock()
	return unsandboxed
}

// boxUID is the user (and group) a box runs as when wslb is root: far
// above any real account, so a boxed process owns nothing outside its
// scratch dir and can read only what everybody may read.
const boxUID = 0x7FFF0000

// Command returns the command that runs spec in the box (not yet
// started: set its output, then Start it). When the box cannot be built
// it returns an *UnavailableError, unless AllowUnsandboxed was called: then
// the proxy runs in a process group with an empty environment and the
// limits, and nothing else.
func Command(spec Spec) (*Cmd, error) {
	if spec.Binary == "" || spec.Dir == "" || !strings.HasPrefix(spec.Dir, "/") {
		return nil, errors.New("sandbox: Binary and an absolute Dir are required")
	}
	spec.Limits = spec.Limits.withDefaults()
	if spec.Root != "" && !strings.HasPrefix(spec.Binary, strings.TrimSuffix(spec.Root, "/")+"/") {
		return nil, fmt.Errorf("sandbox: %s is not inside the root filesystem %s", spec.Binary, spec.Root)
	}
	probe := Probe()
	if probe != nil && spec.Root != "" {
		// Without namespaces there is no way into the root filesystem.
		return nil, probe
	}
	if probe != nil && !unsandboxedAllowed() {
		return nil, probe
	}
	box := boxSpec{Spec: spec, Isolated: probe == nil}
	if box.Isolated && hostRoot() {
		box.DropTo = boxUID
		// The box runs as an unused host uid: the scratch dir must be
		// its own to write pid files, sockets, logs and temp dirs.
		if err := chownTree(spec.Dir, boxUID); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
	}
	return command(box)
}

// CreateOutput creates (or appends to) the file a boxed process writes its
// output to, owned by the box's user: a config naming /dev/stderr or
// /dev/stdout as a log reopens it, which its owner may.
func CreateOutput(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if hostRoot() {
		if err := f.Chown(boxUID, boxUID); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// Cmd is a boxed process.
type Cmd struct {
	*exec.Cmd
	binary *os.File
}

// Start starts the box (see spawn).
func (c *Cmd) Start() error {
	err := spawn(c.Cmd)
	c.binary.Close() // the child has its own copy
	return err
}

// The trampoline gets wslb's own binary and the proxy's as open files: the
// box's user may not be allowed to walk the directories above them (a
// 0700 build cache, a proxy build in a private dir named by $WSLB_HAPROXY).
const (
	exeFD    = 3
	binaryFD = 4
)

var selfExe = sync.OnceValues(func() (*os.File, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return os.Open(self)
})

func command(spec boxSpec) (*Cmd, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	exe, err := selfExe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: open wslb's own binary: %w", err)
	}
	binary, err := os.Open(spec.Binary)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	c := &Cmd{Cmd: exec.Command(fmt.Sprintf("/proc/self/fd/%d", exeFD)), binary: binary}
	c.Args = []string{"wslb-sandbox", spec.Binary}
	c.Env = []string{specEnv + "=" + string(b)}
	c.ExtraFiles = []*os.File{exe, binary}
	c.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	if spec.Isolated {
		flags := uintptr(syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS)
		if !spec.SharedNet && spec.NetNS == "" {
			flags |= syscall.CLONE_NEWNET
		}
		c.SysProcAttr.Cloneflags = flags
		// An unprivileged user gets the namespaces through a user
		// namespace in which it is root; the box's root is then that user
		// on the host. (Host root sets the box up as root and then drops
		// to boxUID instead: a user namespace whose root is boxUID could
		// not reach a scratch dir below a 0700 dir.)
		asRootInUserNS(c.SysProcAttr)
	}
	return c, nil
}

// asRootInUserNS adds, unless wslb is root on the host, a new user
// namespace to attr's clone flags in which wslb's own user is root: what
// an unprivileged user needs to create the other namespaces.
func asRootInUserNS(attr *syscall.SysProcAttr) {
	if hostRoot() {
		return
	}
	attr.Cloneflags |= syscall.CLONE_NEWUSER
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
}

func chownTree(dir string, id int) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, id, id)
	})
}

// hostRoot reports whether wslb is root on the host (not root inside a
// user namespace, such as the one RunInNamespace makes).
func hostRoot() bool { return os.Geteuid() == 0 && inInitUserNS() }

// inInitUserNS reports whether wslb runs in the host's user namespace
// (not, say, inside the one EnterRunNamespace made).
func inInitUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

var probeOnce = sync.OnceValue(func() error {
	// The probe exits once the box is built, before limits would apply.
	cmd, err := command(boxSpec{Spec: Spec{Binary: "/bin/true", Dir: "/"}, Isolated: true})
	if err != nil {
		return err
	}
	cmd.Env = append(cmd.Env, probeEnv+"=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err = cmd.Start(); err == nil {
		err = cmd.Wait()
	}
	out := buf.Bytes()
	if err != nil {
		if len(out) > 0 {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
		}
		return &UnavailableError{Reason: err}
	}
	return nil
})

// probeEnv makes the trampoline build the box and exit without running
// anything.
const probeEnv = "WSLB_SANDBOX_PROBE"

// Probe reports, once per process, whether the box can be built here: nil,
// or an *UnavailableError saying why not.
func Probe() error { return probeOnce() }

// spawn starts cmd from a thread that lives as long as wslb. Pdeathsig
// fires when the thread that started the child exits, not the process,
// and Go may end a thread whose goroutine locked it; so every boxed
// process is started from one goroutine locked to a thread for good.
func spawn(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	spawner() <- spawnRequest{cmd: cmd, done: done}
	return <-done
}

var spawner = sync.OnceValue(func() chan spawnRequest {
	ch := make(chan spawnRequest)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread must not be reused or ended
		for req := range ch {
			req.done <- req.cmd.Start()
		}
	}()
	return ch
})

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// TrampolineFailed prefixes what the trampoline prints when it cannot set
// the box up: the proxy never ran.
const TrampolineFailed = "wslb sandbox: "

func init() {
	if spec, ok := os.LookupEnv(specEnv); ok {
		os.Exit(trampoline(spec))
	}
	if os.Getenv(runNSEnv) != "" {
		setUpRunNamespace()
	}
}
