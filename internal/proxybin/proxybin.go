// Package proxybin finds the proxies' binaries, reads their versions and
// runs their own config checks (haproxy -c, nginx -t), with the command
// lines each proxy's package registers.
package proxybin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wslb/wslb/internal/sandbox"
	"github.com/wslb/wslb/topology"
)

// Kind names a proxy.
type Kind string

const (
	HAProxy Kind = "haproxy"
	Nginx   Kind = "nginx"
)

// Kinds lists the supported proxies in a stable order.
var Kinds = []Kind{HAProxy, Nginx}

// Binary is an installed proxy executable.
type Binary struct {
	Kind Kind
	// Path is the executable as the host sees it.
	Path string
	// Root, when set, is the root filesystem the binary belongs to (one of
	// CacheDir's): it runs in the sandbox with that as its root.
	Root    string
	Version topology.Version
}

// NotFoundError says a proxy binary is missing and how to install it.
type NotFoundError struct {
	Kind Kind
	// Path is the binary named by the environment variable, if any.
	Path string
	// Want, when set, is the version asked for, and Have the versions
	// there are.
	Want Want
	Have []topology.Version
}

func (e *NotFoundError) Error() string {
	if e.Want != (Want{}) {
		have := "none"
		if len(e.Have) > 0 {
			var vs []string
			for _, v := range e.Have {
				vs = append(vs, v.String())
			}
			have = strings.Join(vs, ", ")
		}
		return fmt.Sprintf("%s %s is not available here (have: %s); run `%s` to build the other supported versions into %s, or point $%s at a %s %s binary",
			e.Kind, e.Want, have, BuildHint, CacheDir(), EnvVar(e.Kind), e.Kind, e.Want)
	}
	if e.Path != "" {
		return fmt.Sprintf("%s not found at %s (from $%s); point $%s at the binary, or unset it and install %s with: sudo apt-get install -y %s",
			e.Kind, e.Path, EnvVar(e.Kind), EnvVar(e.Kind), e.Kind, e.Kind)
	}
	return fmt.Sprintf("%s not found in PATH; install it with: sudo apt-get install -y %s", e.Kind, e.Kind)
}

// EnvVar names the environment variable that selects the binary of kind,
// e.g. WSLB_HAPROXY=/opt/haproxy-3.0/sbin/haproxy to check and verify with a
// build other than the one in PATH.
func EnvVar(kind Kind) string {
	return "WSLB_" + strings.ToUpper(string(kind))
}

// InstallHint is the command that installs the proxy on Debian/Ubuntu,
// or builds the cached versions.
func (e *NotFoundError) InstallHint() string {
	if e.Want != (Want{}) {
		return BuildHint
	}
	return "sudo apt-get install -y " + string(e.Kind)
}

var (
	lookupMu    sync.Mutex
	lookupCache = map[string]Binary{} // by binary path
)

// Lookup finds the proxy binary — the one $WSLB_HAPROXY / $WSLB_NGINX names,
// else the one in PATH or /usr/sbin, where Debian puts both — and reads its
// version. Results are cached per process and binary path.
func Lookup(kind Kind) (Binary, error) {
	path, err := binaryPath(kind)
	if err != nil {
		return Binary{}, err
	}
	return At(kind, path)
}

// At describes the proxy binary at path, reading its version once per
// process. A binary in one of CacheDir's root filesystems gets the version
// recorded there, and runs there.
func At(kind Kind, path string) (Binary, error) {
	lookupMu.Lock()
	defer lookupMu.Unlock()
	if b, ok := lookupCache[path]; ok {
		return b, nil
	}
	var b Binary
	var err error
	if root := RootOf(path); root != "" {
		b, err = cachedBinary(kind, root)
	} else {
		b.Version, err = readVersion(kind, path)
		b.Kind, b.Path = kind, path
	}
	if err != nil {
		return Binary{}, err
	}
	lookupCache[path] = b
	return b, nil
}

func binaryPath(kind Kind) (string, error) {
	if p := os.Getenv(EnvVar(kind)); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", &NotFoundError{Kind: kind, Path: p}
		}
		return path, nil
	}
	if path, err := exec.LookPath(string(kind)); err == nil {
		return path, nil
	}
	candidate := filepath.Join("/usr/sbin", string(kind))
	if _, err := os.Stat(candidate); err != nil {
		return "", &NotFoundError{Kind: kind}
	}
	return candidate, nil
}

// Versioner is how a proxy's binary tells its version. The proxy's package
// registers it (through its proxy.Descriptor), so that this package knows
// no proxy's output.
type Versioner struct {
	// Args is the command line after the binary that prints its version
	// (on either stream).
	Args []string
	// Parse reads the version from that output; cached root filesystems
	// record the same output.
	Parse func(output string) (topology.Version, error)
}

var versioners = byKind[Versioner]{what: "versioner"}

// RegisterVersioner adds the Versioner of kind; a second one is a
// programming error.
func RegisterVersioner(kind Kind, v Versioner) { versioners.add(kind, v) }

func versioner(kind Kind) (Versioner, error) {
	v, ok := versioners.get(kind)
	if !ok {
		return Versioner{}, fmt.Errorf("unknown proxy kind %q: wslb cannot read the version of its binary", kind)
	}
	return v, nil
}

func readVersion(kind Kind, path string) (topology.Version, error) {
	vr, err := versioner(kind)
	if err != nil {
		return topology.Version{}, err
	}
	out, err := exec.Command(path, vr.Args...).CombinedOutput() // nginx prints to stderr
	if err != nil {
		return topology.Version{}, fmt.Errorf("%s %s: %w: %s", path, strings.Join(vr.Args, " "), err, bytes.TrimSpace(out))
	}
	v, err := vr.Parse(string(out))
	if err != nil {
		return topology.Version{}, fmt.Errorf("%s %s: %w", path, strings.Join(vr.Args, " "), err)
	}
	return v, nil
}

// parseVersion reads the version of a kind's binary from output.
func parseVersion(kind Kind, output string) (topology.Version, error) {
	vr, err := versioner(kind)
	if err != nil {
		return topology.Version{}, err
	}
	return vr.Parse(output)
}

// VersionAfter is a Versioner's Parse for output that prints the version
// as major.minor[.patch] right after one of prefixes (spaces between
// allowed): VersionAfter("nginx version: nginx/") reads `nginx -v`.
func VersionAfter(prefixes ...string) func(output string) (topology.Version, error) {
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = regexp.QuoteMeta(p)
	}
	// Compiled on first use: proxies register from init, which every
	// wslb process runs.
	re := sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?:` + strings.Join(quoted, "|") + `)\s*(\d+)\.(\d+)(?:\.(\d+))?`)
	})
	return func(out string) (topology.Version, error) {
		m := re().FindStringSubmatch(out)
		if m == nil {
			return topology.Version{}, fmt.Errorf("cannot read a version from %q", strings.TrimSpace(out))
		}
		var v topology.Version
		v.Major, _ = strconv.Atoi(m[1])
		v.Minor, _ = strconv.Atoi(m[2])
		if m[3] != "" {
			v.Patch, _ = strconv.Atoi(m[3])
		}
		return v, nil
	}
}

// CheckError is a config the proxy binary rejected.
type CheckError struct {
	Kind   Kind
	Output string
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("%s rejected the config:\n%s", e.Kind, e.Output)
}

// CheckTimeout bounds one config check: a config that makes the binary
// hang (a resolver that never answers, a huge map) fails instead.
const CheckTimeout = 30 * time.Second

// Check runs the binary's own config test on configPath (the command line
// its Checker gives: `haproxy -c -f`, `nginx -t -c`) in the sandbox (see internal/sandbox): its own network
// namespace holding only lo (nginx -t binds the listen addresses, so no
// port is taken and nothing is reachable), everything read-only but the
// config's directory, an empty environment, and CheckTimeout. The
// config's directory must be a scratch dir of wslb's: it is handed to the
// box's user. A *CheckError carries the binary's output.
func (b Binary) Check(ctx context.Context, configPath string) error {
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", configPath, err)
	}
	args, err := b.checkArgs(abs)
	if err != nil {
		return err
	}
	outPath := filepath.Join(filepath.Dir(abs), ".wslb-check-output")
	outFile, err := sandbox.CreateOutput(outPath)
	if err != nil {
		return fmt.Errorf("check %s: %w", configPath, err)
	}
	defer os.Remove(outPath)
	// Made last before Start, which closes the proxy binary the command
	// holds open.
	cmd, err := sandbox.Command(sandbox.Spec{
		Binary: b.Path, Args: args[1:], Dir: filepath.Dir(abs), Root: b.Root,
		Limits: sandbox.Limits{CPUSeconds: uint64(CheckTimeout / time.Second)},
	})
	if err != nil {
		outFile.Close()
		return fmt.Errorf("check %s: %w", configPath, err)
	}
	cmd.Stdout, cmd.Stderr = outFile, outFile
	err = cmd.Start()
	outFile.Close()
	if err != nil {
		return fmt.Errorf("run %s: %w", strings.Join(args, " "), err)
	}
	errTooLong := fmt.Errorf("%s did not finish checking %s within %s; killed", b.Kind, configPath, CheckTimeout)
	ctx, cancel := context.WithTimeoutCause(ctx, CheckTimeout, errTooLong)
	defer cancel()
	// The binary is its PID namespace's init: killing it ends the box.
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	err = cmd.Wait()
	stop()
	out, _ := os.ReadFile(outPath)
	text := strings.TrimSpace(string(out))
	if ctx.Err() != nil {
		// CheckTimeout's own expiry, or the caller's end.
		if cause := context.Cause(ctx); cause == errTooLong {
			return cause
		}
		return ctx.Err()
	}
	if strings.HasPrefix(text, sandbox.TrampolineFailed) {
		return fmt.Errorf("check %s: %s", configPath, text)
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return &CheckError{Kind: b.Kind, Output: text}
		}
		return fmt.Errorf("run %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// Checker is how a proxy's binary checks a config. The proxy's package
// registers it (through its proxy.Descriptor), so that this package knows
// no proxy.
type Checker struct {
	// Args is the command line after the binary that checks the config
	// at the absolute path abs.
	Args func(b Binary, abs string) []string
	// ConfigName is the file name CheckText writes a config under.
	ConfigName string
}

var checkers = byKind[Checker]{what: "checker"}

// RegisterChecker adds the Checker of kind; a second one is a programming
// error.
func RegisterChecker(kind Kind, c Checker) { checkers.add(kind, c) }

func checker(kind Kind) (Checker, bool) { return checkers.get(kind) }

// byKind holds what the proxy packages register per kind from their init
// functions, read by any goroutine later.
type byKind[T any] struct {
	what string // what is registered, for the duplicate panic
	mu   sync.RWMutex
	m    map[Kind]T
}

func (r *byKind[T]) add(kind Kind, v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[kind]; dup {
		panic(fmt.Sprintf("proxybin: %s for %q registered twice", r.what, kind))
	}
	if r.m == nil {
		r.m = map[Kind]T{}
	}
	r.m[kind] = v
}

func (r *byKind[T]) get(kind Kind) (T, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.m[kind]
	return v, ok
}

// checkArgs is the command line that checks the config at the absolute
// path abs.
func (b Binary) checkArgs(abs string) ([]string, error) {
	c, ok := checker(b.Kind)
	if !ok {
		return nil, fmt.Errorf("unknown proxy kind %q: wslb cannot check its configs", b.Kind)
	}
	return append([]string{b.Path}, c.Args(b, abs)...), nil
}

// CheckText writes text to a scratch directory as the proxy's config file
// and checks it. Extra files (name → content) are written beside it, for
// includes and certificates.
func (b Binary) CheckText(ctx context.Context, text []byte, extra map[string][]byte) error {
	dir, err := os.MkdirTemp("", "wslb-check-")
	if err != nil {
		return fmt.Errorf("create scratch dir: %w", err)
	}
	defer os.RemoveAll(dir)
	for name, content := range extra {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	c, ok := checker(b.Kind)
	if !ok {
		return fmt.Errorf("unknown proxy kind %q: wslb cannot check its configs", b.Kind)
	}
	name := c.ConfigName
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return b.Check(ctx, path)
}
