package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runBoxed runs a shell script in the box with dir as its scratch dir and
// returns its output.
func runBoxed(t *testing.T, dir, script string) (string, error) {
	t.Helper()
	if err := Probe(); err != nil {
		t.Skipf("no sandbox here: %v", err)
	}
	cmd, err := Command(Spec{Binary: "/bin/sh", Args: []string{"-c", script}, Dir: dir})
	require.NoError(t, err)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	err = cmd.Wait()
	return out.String(), err
}

func scratchDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "wslb-sandbox-test-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func TestBoxIsolates(t *testing.T) {
	t.Setenv("WSLB_CANARY_SECRET", "do-not-print-me")
	dir := scratchDir(t)
	outside := filepath.Join(t.TempDir(), "outside")
	require.NoError(t, os.Mkdir(outside, 0o777))
	hostTmp := "/tmp/wslb-sandbox-test-" + time.Now().Format("150405.000000000")
	t.Cleanup(func() { _ = os.Remove(hostTmp) })

	out, err := runBoxed(t, dir, strings.Join([]string{
		`echo "env=$(env | sort | tr '\n' ' ')"`,
		`echo "pid=$$"`,
		`echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"`,
		`echo scratch > ` + dir + `/written && echo "scratch=ok"`,
		`echo x > ` + outside + `/f 2>/dev/null && echo "outside=written" || echo "outside=refused"`,
		`echo x > /etc/wslb-sandbox-test 2>/dev/null && echo "etc=written" || echo "etc=refused"`,
		`echo x > ` + hostTmp + ` && echo "tmp=ok"`,
		`echo x > /run/wslb-sandbox-test.pid && echo "run=ok"`,
		`ls /proc | grep -E '^[0-9]+$' | tr '\n' ' ' | sed 's/^/procs=/'; echo`,
		`cat /etc/shadow >/dev/null 2>&1 && echo "shadow=read" || echo "shadow=refused"`,
	}, "; "))
	require.NoError(t, err, out)
	t.Log(out)
	require.Contains(t, out, "env=PATH="+strings.TrimPrefix(ProxyPath, "PATH=")+" PWD="+dir)
	require.NotContains(t, out, "do-not-print-me")
	require.Contains(t, out, "pid=1\n", "the proxy is the init of its PID namespace")
	require.Contains(t, out, "scratch=ok")
	require.Contains(t, out, "outside=refused")
	require.Contains(t, out, "etc=refused")
	require.Contains(t, out, "tmp=ok")
	require.Contains(t, out, "run=ok")
	// The box's own /proc lists a handful of low pids (or nothing, where
	// the kernel refused a new /proc); the host's lists its own.
	procs := regexp.MustCompile(`procs=([0-9 ]*)\n`).FindStringSubmatch(out)
	require.NotNil(t, procs, out)
	for _, pid := range strings.Fields(procs[1]) {
		n, err := strconv.Atoi(pid)
		require.NoError(t, err)
		require.Less(t, n, 50, "/proc in the box shows processes outside it: %s", procs[1])
	}
	require.NotContains(t, " "+procs[1], " "+strconv.Itoa(os.Getpid())+" ", "/proc in the box shows the test process")
	require.Contains(t, out, "ifaces=lo \n")

	b, err := os.ReadFile(filepath.Join(dir, "written"))
	require.NoError(t, err)
	require.Equal(t, "scratch\n", string(b))
	require.NoFileExists(t, filepath.Join(outside, "f"))
	require.NoFileExists(t, hostTmp, "a write to /tmp in the box reached the host")
	require.NoFileExists(t, "/run/wslb-sandbox-test.pid")
	require.NoFileExists(t, "/etc/wslb-sandbox-test")
	if os.Geteuid() == 0 {
		require.Contains(t, out, "shadow=refused", "the box runs as an unprivileged user")
	}
}

// A fresh network namespace per check: only lo, and up.
func TestBoxHasOnlyLoopback(t *testing.T) {
	out, err := runBoxed(t, scratchDir(t), `cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; cat /sys/class/net/lo/operstate 2>/dev/null; cat /proc/net/route | tail -n +2 | wc -l`)
	require.NoError(t, err, out)
	lines := strings.Fields(out)
	require.Equal(t, "lo", lines[0], out)
	require.Len(t, lines, 3, "only lo, no route off the machine:\n%s", out)
	if os.Geteuid() == 0 {
		out, err := runBoxed(t, scratchDir(t), `ls /sys/class/net`)
		require.NoError(t, err, out)
		require.Equal(t, "lo", strings.TrimSpace(out), "/sys shows the box's interfaces only")
	}
}

func TestBoxLimits(t *testing.T) {
	out, err := runBoxed(t, scratchDir(t), `grep -E '^Max (cpu time|processes|address space|core file size)' /proc/self/limits`)
	require.NoError(t, err, out)
	require.Regexp(t, `Max cpu time\s+3600\s+3600`, out)
	require.Regexp(t, `Max processes\s+512\s+512`, out)
	require.Regexp(t, `Max address space\s+4294967296\s+4294967296`, out)
	require.Regexp(t, `Max core file size\s+0\s+0`, out)
}

// Nothing outlives the box's first process: it is the PID namespace's
// init, and its children die with it.
func TestBoxChildrenDieWithIt(t *testing.T) {
	// A sleep no other process runs: its command line finds it on the host
	// (its pid in the box means nothing there), whoever the box's user is.
	nap := fmt.Sprintf("300.%09d", time.Now().Nanosecond())
	dir := scratchDir(t)
	// The box exits once the grandchild runs sleep (seen in the box's /proc).
	out, err := runBoxed(t, dir, `(sleep `+nap+` & echo $! > `+dir+`/child; wait) >/dev/null 2>&1 & `+
		`i=0; until grep -qs `+nap+` /proc/$(cat `+dir+`/child 2>/dev/null)/cmdline; do `+
		`i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.05; done; echo started`)
	require.NoError(t, err, out)
	require.Contains(t, out, "started")
	survivor := func() string {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if string(cmdline) == "sleep\x00"+nap+"\x00" {
				return e.Name()
			}
		}
		return ""
	}
	// Killed processes take a moment to go, longer on a busy machine: wait
	// for them, but not forever.
	require.Eventually(t, func() bool { return survivor() == "" }, 30*time.Second, 50*time.Millisecond, "a boxed process outlived the box")
}
