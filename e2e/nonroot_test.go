package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// nobodyRun runs wslb as the unprivileged user nobody (uid 65534), with
// blockUserNS making user namespaces unavailable to it the way a hardened
// kernel does: it then runs in a user namespace of its own whose
// user.max_user_namespaces is 0.
func nobodyRun(t *testing.T, dir string, blockUserNS bool, args ...string) (int, string) {
	t.Helper()
	drop := append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", filepath.Join(dir, "wslb")}, args...)
	var cmd *exec.Cmd
	if blockUserNS {
		cmd = exec.Command("/bin/sh", append([]string{"-c", `echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"`, "sh"}, drop...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
			// Root in the namespace, with the capabilities to set the
			// limit and change to nobody.
			Credential:                 &syscall.Credential{Uid: 0, Gid: 0},
			GidMappingsEnableSetgroups: true,
		}
	} else {
		cmd = exec.Command(drop[0], drop[1:]...)
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR=/tmp", "NO_COLOR=1")
	code, stdout, stderr := runToEnd(t, cmd, 2*time.Minute)
	return code, stdout + stderr
}

// nobodyDir is a directory the user nobody can read, holding a copy of an
// existing config and of the wslb binary (nobody cannot run it from the
// 0700 build dir), for nobodyRun. It skips the test where nobodyRun cannot
// run.
func nobodyDir(t *testing.T, config string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("switching to user nobody needs root")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	dir := testutil.ScratchDir(t)
	b, err := os.ReadFile(filepath.Join("..", config))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(config)), b, 0o644))
	b, err = os.ReadFile(wslbBin)
	require.NoError(t, err)
	testutil.WriteExecutable(t, filepath.Join(dir, "wslb"), b)
	return dir
}

// Not root: the same sandbox through an unprivileged user namespace.
func TestSandboxAsNobody(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	dir := nobodyDir(t, "verify/testdata/configs/sticky-source.haproxy.cfg")
	code, out := nobodyRun(t, dir, false, "validate", "--exec", "sticky-source.haproxy.cfg")
	require.Equal(t, 0, code, out)
	code, out = nobodyRun(t, dir, false, "verify", "sticky-source.haproxy.cfg",
		"--clients", "20", "--reconnects", "1", "--messages", "1", "--scenarios", "stickiness")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "PASS  stickiness")
}

// Where no sandbox can be built, an untrusted config is refused (exit 4,
// saying why) unless --unsandboxed is given.
func TestNoSandboxRefusesUnlessUnsandboxed(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	dir := nobodyDir(t, "verify/testdata/configs/sticky-source.haproxy.cfg")

	code, out := nobodyRun(t, dir, true, "validate", "--exec", "sticky-source.haproxy.cfg")
	require.Equal(t, 4, code, out)
	require.Contains(t, out, "cannot be isolated")
	require.Contains(t, out, "--unsandboxed")
	code, out = nobodyRun(t, dir, true, "validate", "--exec", "--unsandboxed", "sticky-source.haproxy.cfg")
	require.Equal(t, 0, code, out)

	code, out = nobodyRun(t, dir, true, "verify", "sticky-source.haproxy.cfg",
		"--clients", "20", "--reconnects", "1", "--messages", "1", "--scenarios", "stickiness")
	require.Equal(t, 4, code, out)
	require.Contains(t, out, "refusing to verify")
	require.Contains(t, out, "--unsandboxed")
}
