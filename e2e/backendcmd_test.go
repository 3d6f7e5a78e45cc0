package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// publicWslb is a copy of the wslb binary that the sandbox's user may run
// (the test's build dir is private to its owner, as a user's home often
// is: a backend command's program must be readable by everyone).
func publicWslb(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "wslb-e2e-pub-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	b, err := os.ReadFile(wslbBin)
	require.NoError(t, err)
	bin := filepath.Join(dir, "wslb")
	testutil.WriteExecutable(t, bin, b)
	return bin
}

// Every scenario passes with the servers run as processes by
// --backend-cmd (wslb's own echo server): failover stops and restarts a
// process, reload keeps its connections, and nothing outlives the run.
func TestBackendCmdEchoProcesses(t *testing.T) {
	testutil.NeedProxy(t, proxybin.Nginx)
	bin := publicWslb(t)
	r := start(t, "verify", "examples/chat.hcl", "--proxy", "nginx", "--clients", "40",
		"--backend-cmd", bin+" echo --id {id} --listen {host}:{port}")
	code := r.wait(t, 2*time.Minute)
	flat := strings.Join(strings.Fields(r.stdout.String()), " ")
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
	for _, sc := range []string{"PASS stickiness", "PASS spread", "PASS failover", "PASS reload"} {
		require.Contains(t, flat, sc)
	}
	r.requireClean(t, "nginx")
	r.requireClean(t, " echo --id ws")
}

// A server that dies at start fails the run before the proxy starts,
// quoting what it printed.
func TestBackendCmdExitsAtStart(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, "verify", "examples/chat.hcl", "--proxy", "haproxy",
		"--backend-cmd", "echo Cannot find module express {port} >&2; exit 3")
	require.Equal(t, 1, r.wait(t, time.Minute))
	stderr := r.stderr.String()
	require.Contains(t, stderr, "exited before it was ready (exit status 3)")
	require.Contains(t, stderr, "Cannot find module express")
}
