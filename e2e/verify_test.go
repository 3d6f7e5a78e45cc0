// Package e2e runs the built wslb binary as a user would: real processes,
// real signals, real haproxy and nginx.
package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

var wslbBin string

func TestMain(m *testing.M) {
	if report := os.Getenv(reaperEnv); report != "" {
		os.Exit(reaperMain(report))
	}
	flag.Parse()
	// The runs mostly wait for health checks and signals; run more at once
	// than there are cores unless -parallel was given.
	testutil.RaiseParallel(6)
	dir, err := os.MkdirTemp("", "wslb-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wslbBin = filepath.Join(dir, "wslb")
	// Static (CGO_ENABLED=0): the docker driver puts this binary in a
	// FROM scratch image.
	build := exec.Command("go", "build", "-o", wslbBin, "github.com/wslb/wslb/cmd/wslb")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build wslb: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc identifies a process across pid reuse: pid plus start time.
type proc struct {
	pid   int
	start string
	cmd   string
}

// statFields returns /proc/PID/stat's fields after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// descendants lists the live processes below root.
func descendants(root int) []proc {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	start := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(pid)
		if len(f) < 20 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		parent[pid] = ppid
		start[pid] = f[19] // starttime, field 22 of stat
	}
	var out []proc
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == root {
				cmd, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
				out = append(out, proc{pid: pid, start: start[pid], cmd: strings.ReplaceAll(string(cmd), "\x00", " ")})
				break
			}
		}
	}
	return out
}

// alive reports whether p still runs (the same process, not a reused pid).
func alive(p proc) bool {
	f := statFields(p.pid)
	return len(f) >= 20 && f[0] != "Z" && f[19] == p.start
}

// runToEnd runs cmd (wslb, or a wrapper that runs it) to its end, bounded
// by limit, and returns its exit code, stdout and stderr. It fails the test
// when the command cannot run or does not end in time.
func runToEnd(t *testing.T, cmd *exec.Cmd, limit time.Duration) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	var late atomic.Bool
	timer := time.AfterFunc(limit, func() { late.Store(true); _ = cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	require.False(t, late.Load(), "%v did not end within %s\nstdout:\n%s\nstderr:\n%s", cmd.Args, limit, &out, &errOut)
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		require.NoError(t, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// run is a wslb process under observation: every process it starts is
// recorded so the test can check that none outlives it.
type run struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	tmp            string

	mu   sync.Mutex
	seen map[int]proc
	done chan struct{}
	code int
}

// start runs wslb with TMPDIR set to a fresh directory, so its scratch
// dirs are easy to find.
func start(t *testing.T, args ...string) *run {
	t.Helper()
	return startEnv(t, nil, args...)
}

// startEnv is start with extra environment variables.
func startEnv(t *testing.T, env []string, args ...string) *run {
	t.Helper()
	// A short TMPDIR: unix socket paths in the scratch dir must stay under
	// HAProxy's 97-byte limit, which t.TempDir's long names exceed.
	tmp, err := os.MkdirTemp("/tmp", "wslb-e2e-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(tmp) })
	r := &run{tmp: tmp, seen: map[int]proc{}, done: make(chan struct{})}
	r.cmd = exec.Command(wslbBin, args...)
	r.cmd.Dir = ".."
	r.cmd.Env = append(append(os.Environ(), "TMPDIR="+r.tmp, "NO_COLOR=1"), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	require.NoError(t, r.cmd.Start())
	go func() {
		_ = r.cmd.Wait()
		r.code = r.cmd.ProcessState.ExitCode()
		close(r.done)
	}()
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, p := range descendants(r.cmd.Process.Pid) {
				r.mu.Lock()
				// Keep every command line a process had: a forked child
				// shows wslb's until it execs, and a dying one reads empty.
				switch old, ok := r.seen[p.pid]; {
				case !ok || old.start != p.start || old.cmd == "":
					r.seen[p.pid] = p
				case p.cmd != "" && !strings.Contains(old.cmd, p.cmd):
					old.cmd += " | " + p.cmd
					r.seen[p.pid] = old
				}
				r.mu.Unlock()
			}
			select {
			case <-r.done:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// wait waits for exit, bounded.
func (r *run) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(limit):
		t.Fatalf("wslb did not exit within %s\nstdout:\n%s\nstderr:\n%s", limit, r.stdout.String(), r.stderr.String())
		return -1
	}
}

// waitFor polls until a descendant whose command line contains name runs.
func (r *run) waitFor(t *testing.T, name string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, p := range r.seen {
			if strings.Contains(p.cmd, name) && alive(p) {
				r.mu.Unlock()
				return
			}
		}
		r.mu.Unlock()
		select {
		case <-r.done:
			t.Fatalf("wslb exited before starting %s\nstderr:\n%s", name, r.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Fatalf("no %s process started within %s\nseen: %v\nstderr:\n%s", name, limit, r.seen, r.stderr.String())
}

// requireClean checks that nothing wslb started is left: no process and no
// scratch directory.
func (r *run) requireClean(t *testing.T, proxy string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	sawProxy := false
	for _, p := range r.seen {
		if strings.Contains(p.cmd, proxy) {
			sawProxy = true
		}
		require.False(t, alive(p), "process %d (%s) outlived wslb", p.pid, p.cmd)
	}
	require.True(t, sawProxy, "wslb never started %s", proxy)
	left, err := filepath.Glob(filepath.Join(r.tmp, "wslb-*"))
	require.NoError(t, err)
	require.Empty(t, left, "scratch dirs left behind")
	// The netns driver's namespaces are named after the wslb that made
	// them: one of this run's processes.
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		f := strings.SplitN(e.Name(), "-", 3)
		if len(f) != 3 || f[0] != "wslb" {
			continue
		}
		pid, err := strconv.Atoi(f[1])
		_, ours := r.seen[pid]
		require.False(t, err == nil && (ours || pid == r.cmd.Process.Pid), "network namespace %s left behind", e.Name())
	}
}

func TestVerifyPassesAndCleansUp(t *testing.T) {
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		r := start(t, "verify", "examples/chat.hcl", "--proxy", string(kind),
			"--clients", "30", "--reconnects", "2", "--messages", "2", "--format", "json")
		code := r.wait(t, 2*time.Minute)
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
		var out struct {
			Passed bool `json:"passed"`
		}
		require.NoError(t, json.Unmarshal(r.stdout.Bytes(), &out), r.stdout.String())
		require.True(t, out.Passed)
		r.requireClean(t, string(kind))
	})
}

func TestVerifyRoundRobinExitsOne(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, "verify", "verify/testdata/configs/roundrobin.haproxy.cfg",
		"--clients", "30", "--reconnects", "2", "--messages", "2", "--scenarios", "stickiness,spread")
	code := r.wait(t, 2*time.Minute)
	require.Equal(t, 1, code, "stderr:\n%s", r.stderr.String())
	require.Contains(t, r.stdout.String(), "FAIL  stickiness")
	require.Regexp(t, `client-\d+: hit [23] backends`, r.stdout.String())
	r.requireClean(t, "haproxy")
}

// An interrupted run tears down the proxy, the backends and the scratch
// dir, whichever signal stops it, and exits 128+signal like validate.
func TestVerifyInterruptedCleansUp(t *testing.T) {
	for _, tc := range []struct {
		kind proxybin.Kind
		sig  syscall.Signal
	}{
		{proxybin.HAProxy, syscall.SIGINT},
		{proxybin.Nginx, syscall.SIGINT},
		{proxybin.HAProxy, syscall.SIGTERM},
		{proxybin.Nginx, syscall.SIGTERM},
	} {
		t.Run(string(tc.kind)+"/"+tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			testutil.NeedProxy(t, tc.kind)
			// The idle scenario keeps the run busy long enough to interrupt.
			r := start(t, "verify", "examples/chat.hcl", "--proxy", string(tc.kind),
				"--clients", "20", "--reconnects", "1", "--messages", "1",
				"--scenarios", "stickiness", "--idle", "60s")
			r.waitFor(t, string(tc.kind), 30*time.Second)
			time.Sleep(1500 * time.Millisecond) // usually mid-run; during startup is fine too
			require.NoError(t, r.cmd.Process.Signal(tc.sig), "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
			code := r.wait(t, 30*time.Second)
			require.Equal(t, 128+int(tc.sig), code, "stderr:\n%s", r.stderr.String())
			require.Contains(t, r.stderr.String(), "verify interrupted by "+map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[tc.sig])
			require.Empty(t, r.stdout.String(), "no partial report")
			r.requireClean(t, string(tc.kind))
		})
	}
}

// --timeout stops a run that takes longer: exit 124 like validate, no
// partial report, nothing left running.
func TestVerifyTimeoutExits124(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	// Every default scenario takes about ten seconds: failover and reload
	// wait for health checks.
	r := start(t, "verify", "examples/chat.hcl", "--proxy", "haproxy", "--timeout", "2s")
	code := r.wait(t, time.Minute)
	require.Equal(t, 124, code, "stderr:\n%s", r.stderr.String())
	require.Contains(t, r.stderr.String(), "verify did not finish within --timeout 2s")
	require.Empty(t, r.stdout.String(), "no partial report")
	r.requireClean(t, "haproxy")
}

func TestVerifyInvalidTopologyExitsThree(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.hcl")
	require.NoError(t, os.WriteFile(bad, []byte("pool \"p\" {\n  balanse = \"roundrobin\"\n}\n"), 0o644))
	code, _, stderr := runToEnd(t, exec.Command(wslbBin, "verify", bad), time.Minute)
	require.Equal(t, 3, code, stderr)
	require.Contains(t, stderr, "bad.hcl:2:3: error: Unsupported argument")
	require.Contains(t, stderr, `Did you mean "balance"?`)
}

// A missing proxy binary exits 4 and names the command that installs it.
func TestVerifyMissingProxyExitsFour(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"haproxy", "nginx"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(wslbBin, "verify", "../examples/chat.hcl", "--proxy", kind)
			cmd.Env = append(os.Environ(), "WSLB_"+strings.ToUpper(kind)+"="+filepath.Join(t.TempDir(), "absent", kind))
			code, _, stderr := runToEnd(t, cmd, time.Minute)
			require.Equal(t, 4, code, stderr)
			require.Contains(t, stderr, "sudo apt-get install -y "+kind)
		})
	}
}

// oldest is the earliest started live descendant that runs the program
// name (its binary, or a title "name: ..."): a proxy's master. Any command
// line the process had counts: the master was wslb's fork and the sandbox's
// trampoline before it exec'd the proxy.
func (r *run) oldest(name string) proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	runs := func(p proc) bool {
		for _, cmd := range strings.Split(p.cmd, " | ") {
			if f := strings.Fields(cmd); len(f) > 0 && (filepath.Base(f[0]) == name || f[0] == name+":") {
				return true
			}
		}
		return false
	}
	var best proc
	for _, p := range r.seen {
		if !runs(p) || !alive(p) {
			continue
		}
		// Started in the same clock tick: the lower pid came first.
		if best.pid == 0 || startTicks(p) < startTicks(best) || startTicks(p) == startTicks(best) && p.pid < best.pid {
			best = p
		}
	}
	return best
}

func startTicks(p proc) int64 {
	n, _ := strconv.ParseInt(p.start, 10, 64)
	return n
}
