package e2e

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// hostileDir holds one directory per hostile-config case: the config
// files under test and a case.json saying what must happen.
const hostileDir = "../testdata/hostile"

// hostileCase is a case.json. Placeholders ({dir}, {canary},
// {canary_addr}, {secret}) are substituted in Args, the output checks,
// setup targets and every file of the case.
type hostileCase struct {
	Why            string         `json:"why"`
	Args           []string       `json:"args"`
	Exit           *int           `json:"exit"`
	OutputContains []string       `json:"output_contains"`
	OutputExcludes []string       `json:"output_excludes"`
	Setup          []hostileSetup `json:"setup"`
	Timeout        string         `json:"timeout"`
	// MustNotExist lists host paths the run must not create (use {run} in
	// them for a name no other run uses).
	MustNotExist []string `json:"must_not_exist"`
	// Needs lists the proxies the case runs ("haproxy", "nginx", or a
	// version of one: "nginx=1.30"); without
	// it, a case with a haproxy.cfg or nginx.conf needs that proxy when
	// its args run one (--exec or verify).
	Needs []string `json:"needs"`
}

// hostileSetup makes a file that cannot live in git: a symlink, a FIFO or
// a big file.
type hostileSetup struct {
	Symlink string `json:"symlink"`
	To      string `json:"to"`
	FIFO    string `json:"fifo"`
	Big     string `json:"big"`
	Bytes   int64  `json:"bytes"`
	Line    string `json:"line"`
}

// reaperEnv makes the test binary act as a subreaper that runs wslb (see
// reaperMain), so processes that outlive wslb are caught even when they
// double-fork away from it.
const (
	reaperEnv       = "WSLB_E2E_REAPER_REPORT"
	canarySecretEnv = "WSLB_CANARY_SECRET"
)

// TestHostileConfigs runs every case under testdata/hostile and checks,
// besides the exit code and output the case names, that nothing outside
// the sandbox was touched: the canary tree is unchanged, the canary
// listener got no connection or datagram, the secret from the environment
// was not printed, no process outlived wslb and no scratch dir is left.
func TestHostileConfigs(t *testing.T) {
	entries, err := os.ReadDir(hostileDir)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n++
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runHostileCase(t, filepath.Join(hostileDir, name))
		})
	}
	require.NotZero(t, n, "no cases under %s", hostileDir)
}

func runHostileCase(t *testing.T, src string) {
	raw, err := os.ReadFile(filepath.Join(src, "case.json"))
	require.NoError(t, err)
	var c hostileCase
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&c), "case.json")
	require.NotEmpty(t, c.Why, "case.json: why is required")
	require.NotNil(t, c.Exit, "case.json: exit is required")
	require.NotEmpty(t, c.Args, "case.json: args is required")
	timeout := 60 * time.Second
	if c.Timeout != "" {
		timeout, err = time.ParseDuration(c.Timeout)
		require.NoError(t, err, "case.json: timeout")
	}
	for _, need := range hostileNeeds(t, src, c) {
		if kind, version, ok := strings.Cut(string(need), "="); ok {
			testutil.NeedProxyVersion(t, proxybin.Kind(kind), version)
			continue
		}
		testutil.NeedProxy(t, need)
	}

	// Short /tmp paths: unix socket paths in scratch dirs must stay under
	// HAProxy's 97-byte limit.
	root, err := os.MkdirTemp("/tmp", "wslb-hc-")
	require.NoError(t, err)
	t.Cleanup(func() { removeAllForce(root) })
	dir := filepath.Join(root, "case")
	canary := filepath.Join(root, "canary")
	tmp := filepath.Join(root, "tmp")
	for _, d := range []string{dir, tmp} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	// Others' scratch dirs must be reachable by an unprivileged proxy.
	require.NoError(t, os.Chmod(root, 0o755))
	makeCanaryTree(t, canary)
	before := snapshotTree(t, canary)

	listener := startCanaryListener(t)
	secret := "wslb-canary-" + randomHex(t, 12)
	subst := strings.NewReplacer("{dir}", dir, "{canary}", canary, "{canary_addr}", listener.addr, "{secret}", secret,
		"{run}", "wslb-hostile-"+randomHex(t, 6))
	secretInFiles := copyCase(t, src, dir, subst)
	for _, s := range c.Setup {
		applySetup(t, dir, s, subst)
	}
	mustNotExist := make([]string, len(c.MustNotExist))
	for i, p := range c.MustNotExist {
		mustNotExist[i] = subst.Replace(p)
		require.NoFileExists(t, mustNotExist[i], "must_not_exist names a file that exists before the run")
		t.Cleanup(func() { _ = os.RemoveAll(mustNotExist[i]) })
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = subst.Replace(a)
	}

	report := filepath.Join(root, "reaper-report")
	cmd := exec.Command(os.Args[0], append([]string{wslbBin}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "NO_COLOR=1", canarySecretEnv+"="+secret, reaperEnv+"="+report)
	code, stdout, stderr := runToEnd(t, cmd, timeout)
	out := stdout + stderr
	t.Logf("%s\nwslb %s → exit %d\n%s", c.Why, strings.Join(args, " "), code, out)

	assert.Equal(t, *c.Exit, code, "exit code; output:\n%s", out)
	for _, s := range c.OutputContains {
		assert.Contains(t, out, subst.Replace(s))
	}
	for _, s := range c.OutputExcludes {
		assert.NotContains(t, out, subst.Replace(s))
	}
	if !secretInFiles {
		assert.NotContains(t, out, secret, "the secret from the environment was printed")
	}
	leftover, _ := os.ReadFile(report)
	assert.Empty(t, strings.TrimSpace(string(leftover)), "processes outlived wslb")
	left, _ := os.ReadDir(tmp)
	assert.Empty(t, left, "scratch dirs left behind in TMPDIR")
	assert.Equal(t, before, snapshotTree(t, canary), "the canary tree changed")
	for _, p := range mustNotExist {
		_, err := os.Lstat(p)
		assert.True(t, os.IsNotExist(err), "the run created %s on the host", p)
	}
	assert.Empty(t, listener.contacts(), "the canary listener %s was contacted", listener.addr)
}

// hostileNeeds lists the proxies a case runs (a "KIND=VERSION" entry is
// that version).
func hostileNeeds(t *testing.T, src string, c hostileCase) []proxybin.Kind {
	var kinds []proxybin.Kind
	if len(c.Needs) > 0 {
		for _, n := range c.Needs {
			kinds = append(kinds, proxybin.Kind(n))
		}
		return kinds
	}
	runs := slices.Contains(c.Args, "--exec") || c.Args[0] == "verify"
	if !runs {
		return nil
	}
	for _, k := range []struct {
		file string
		kind proxybin.Kind
	}{{"haproxy.cfg", proxybin.HAProxy}, {"nginx.conf", proxybin.Nginx}} {
		if _, err := os.Stat(filepath.Join(src, k.file)); err == nil {
			kinds = append(kinds, k.kind)
		}
	}
	return kinds
}

// copyCase copies the case's files (all but case.json) into dir with the
// placeholders substituted. It reports whether a file names {secret}
// itself: then the secret may legitimately be echoed back.
func copyCase(t *testing.T, src, dir string, subst *strings.Replacer) bool {
	secretInFiles := false
	require.NoError(t, filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if rel == "." || rel == "case.json" {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("{secret}")) {
			secretInFiles = true
		}
		return os.WriteFile(filepath.Join(dir, rel), []byte(subst.Replace(string(b))), 0o644)
	}))
	return secretInFiles
}

func applySetup(t *testing.T, dir string, s hostileSetup, subst *strings.Replacer) {
	name := cmp.Or(s.Symlink, s.FIFO, s.Big)
	if name == "" {
		t.Fatalf("case.json: setup entry %+v names nothing to make", s)
	}
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	switch {
	case s.Symlink != "":
		require.NoError(t, os.Symlink(subst.Replace(s.To), p))
	case s.FIFO != "":
		require.NoError(t, unix.Mkfifo(p, 0o644))
	default:
		f, err := os.Create(p)
		require.NoError(t, err)
		w := bufio.NewWriterSize(f, 1<<20)
		line := subst.Replace(s.Line)
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		for written := int64(0); written < s.Bytes; written += int64(len(line)) {
			_, err = w.WriteString(line)
			require.NoError(t, err)
		}
		require.NoError(t, w.Flush())
		require.NoError(t, f.Close())
	}
}

// makeCanaryTree fills dir with files a hostile config might aim at: logs
// to truncate or append to, a pid file, a socket path, a temp dir to chown.
func makeCanaryTree(t *testing.T, dir string) {
	files := map[string]string{
		"secret.txt":       "canary file: must never be read into output\n",
		"logs/access.log":  "existing log line\n",
		"logs/error.log":   "existing error line\n",
		"run/haproxy.pid":  "4242\n",
		"run/nginx.pid":    "4243\n",
		"tmp/keep":         "",
		"etc/included.cfg": "# canary include\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	require.NoError(t, os.Chmod(filepath.Join(dir, "secret.txt"), 0o600))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "empty"), 0o755))
}

// snapshotTree records every entry under dir: type, mode, owner, size,
// modification time and content hash.
func snapshotTree(t *testing.T, dir string) map[string]string {
	snap := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		sum := ""
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			sum = hex.EncodeToString(h[:8])
		}
		rel, _ := filepath.Rel(dir, path)
		snap[rel] = fmt.Sprintf("mode=%o uid=%d gid=%d size=%d mtime=%d.%09d sha=%s",
			st.Mode, st.Uid, st.Gid, st.Size, st.Mtim.Sec, st.Mtim.Nsec, sum)
		return nil
	}))
	return snap
}

// canaryListener listens on TCP and UDP at the same 127.0.0.2 port and
// records every connection and datagram.
type canaryListener struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func startCanaryListener(t *testing.T) *canaryListener {
	c := &canaryListener{}
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		require.NoError(t, err, "listen on 127.0.0.2")
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)))
		if err != nil {
			ln.Close()
			require.Less(t, attempt, 20, "no port free for both TCP and UDP on 127.0.0.2")
			continue
		}
		c.addr = ln.Addr().String()
		t.Cleanup(func() { ln.Close(); pc.Close() })
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				c.record("tcp from " + conn.RemoteAddr().String())
				conn.Close()
			}
		}()
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				c.record(fmt.Sprintf("udp from %s: %q", from, buf[:min(n, 200)]))
			}
		}()
		return c
	}
}

func (c *canaryListener) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, s)
}

func (c *canaryListener) contacts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.seen)
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// removeAllForce removes a case's temp tree even where a proxy made parts
// of it unwritable.
func removeAllForce(dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o755)
		}
		return nil
	})
	_ = os.RemoveAll(dir)
}

// reaperMain runs when the test binary is started with reaperEnv set: it
// becomes a child subreaper, runs wslb (os.Args[1:]), and once wslb exits
// writes to the report file every process still left below it (orphans
// are reparented to the subreaper), kills them and exits with wslb's code.
func reaperMain(report string) int {
	// Pdeathsig is tied to the thread that started the child.
	goruntime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		return 125
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, reaperEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		return 125
	}
	_ = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	// Processes killed by Pdeathsig or their namespace's end need a moment,
	// longer on a busy machine; the wait ends as soon as none is left, so
	// only a process that really survives costs the whole deadline.
	var left []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		for {
			if pid, _ := syscall.Wait4(-1, nil, syscall.WNOHANG, nil); pid <= 0 {
				break
			}
		}
		left = left[:0]
		kids := descendants(os.Getpid())
		for _, p := range kids {
			left = append(left, fmt.Sprintf("%d %s", p.pid, strings.TrimSpace(p.cmd)))
		}
		if len(kids) == 0 || time.Now().After(deadline) {
			for _, p := range kids {
				_ = syscall.Kill(-p.pid, syscall.SIGKILL)
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.WriteFile(report, []byte(strings.Join(left, "\n")), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		return 125
	}
	return code
}
