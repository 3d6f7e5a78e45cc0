package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/brokerproc"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// sioApp is the example Socket.IO server, run from the repository root.
const sioApp = "node examples/socketio/server.js {port} {id}"

// needSocketIO skips (or, with $WSLB_REQUIRE_PROXIES=1, fails) unless node,
// the example's node_modules (npm ci in examples/socketio) and
// redis-server are installed.
func needSocketIO(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end run with node and redis; skipped with -short")
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (apt-get install nodejs)")
	}
	if _, err := os.Stat("../examples/socketio/node_modules/socket.io"); err != nil {
		missing = append(missing, "the example's modules (npm ci --prefix examples/socketio)")
	}
	if _, err := brokerproc.FindRedis(); err != nil {
		missing = append(missing, "redis-server (apt-get install redis-server)")
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv(testutil.RequireProxiesEnv) == "1" {
		t.Fatalf("required ($%s=1) but missing: %s", testutil.RequireProxiesEnv, strings.Join(missing, ", "))
	}
	t.Skipf("missing: %s", strings.Join(missing, ", "))
}

// sioVerify is a small Socket.IO run: few clients, one reconnect.
func sioVerify(target string, extra ...string) []string {
	return append([]string{"verify", target, "--client", "socketio", "--clients", "6", "--reconnects", "1"}, extra...)
}

// examples/socketio.hcl with the Redis adapter passes on both proxies:
// every session stays on its server, and a broadcast reaches every client
// of all three servers exactly once.
func TestSocketIOExamplePasses(t *testing.T) {
	needSocketIO(t)
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		r := start(t, sioVerify("examples/socketio.hcl", "--proxy", string(kind), "--pool", "socketio", "--backend-cmd", sioApp, "--redis")...)
		code := r.wait(t, 2*time.Minute)
		out := r.stdout.String()
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
		flat := strings.Join(strings.Fields(out), " ")
		require.Contains(t, flat, "PASS stickiness 6/6 clients stayed on one backend")
		require.Contains(t, flat, "PASS broadcast every client received all 9 messages exactly once (6 clients on 3 servers)")
		r.requireClean(t, "node")
		r.requireClean(t, "redis-server")
	})
}

// A hand-written config without affinity (round robin) fails, naming the
// request that reached another server and the server's answer.
func TestSocketIORoundRobinFails(t *testing.T) {
	needSocketIO(t)
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		cfg := map[proxybin.Kind]string{proxybin.HAProxy: "haproxy-roundrobin.cfg", proxybin.Nginx: "nginx-roundrobin.conf"}[kind]
		r := start(t, sioVerify(filepath.Join("testdata/socketio", cfg), "--backend-cmd", sioApp)...)
		code := r.wait(t, 2*time.Minute)
		out := r.stdout.String()
		require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
		flat := strings.Join(strings.Fields(out), " ")
		require.Contains(t, flat, "FAIL stickiness 0/6 clients stayed on one backend")
		require.Regexp(t, `client-\d{4}: no connection succeeded \(2 failed\): session 1: (polling|upgrade) request \d reached io\d, session opened on io\d: 400 Session ID unknown`, flat)
		require.Regexp(t, `\d+ requests answered "Session ID unknown"`, flat)
		r.requireClean(t, "node")
	})
}

// The same topology with affinity "none" is refused before anything runs,
// with the reason.
func TestSocketIOTopologyWithoutAffinity(t *testing.T) {
	src, err := os.ReadFile("../examples/socketio.hcl")
	require.NoError(t, err)
	re := regexp.MustCompile(`(?s)affinity \{\s*mode\s*=\s*"cookie"\s*cookie\s*=\s*"io_srv"\s*\}`)
	require.Regexp(t, re, string(src))
	hcl := filepath.Join(t.TempDir(), "socketio-none.hcl")
	require.NoError(t, os.WriteFile(hcl, re.ReplaceAll(src, []byte(`affinity { mode = "none" }`)), 0o644))
	code, _, stderr := runToEnd(t, exec.Command(wslbBin, "verify", hcl, "--client", "socketio", "--backend-cmd", sioApp), time.Minute)
	require.Equal(t, 3, code, stderr)
	require.Contains(t, stderr, "Socket.IO without affinity")
	require.Contains(t, stderr, "Session ID unknown")
}

// Without the Redis adapter a broadcast reaches only the clients of the
// server it was sent through: the scenario fails and says how many
// messages each server's clients missed.
func TestSocketIOBroadcastWithoutAdapterFails(t *testing.T) {
	needSocketIO(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, sioVerify("examples/socketio.hcl", "--proxy", "haproxy", "--pool", "socketio", "--backend-cmd", "WSLB_NO_ADAPTER=1 "+sioApp, "--redis")...)
	code := r.wait(t, 2*time.Minute)
	out := r.stdout.String()
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
	flat := strings.Join(strings.Fields(out), " ")
	require.Contains(t, flat, "PASS stickiness")
	require.Regexp(t, `FAIL broadcast \d+ of \d+ deliveries lost, 0 duplicated`, flat)
	missed := regexp.MustCompile(`clients on (io\d) \(\d+\) missed (\d+) of (\d+) messages each: every message sent through another server`).FindAllStringSubmatch(flat, -1)
	require.GreaterOrEqual(t, len(missed), 2, flat)
	require.Contains(t, flat, "no Redis adapter", "the servers' output is quoted")
	r.requireClean(t, "node")
}

// SIGINT while the servers run stops everything verify started.
func TestSocketIOInterrupted(t *testing.T) {
	needSocketIO(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, sioVerify("examples/socketio.hcl", "--proxy", "haproxy", "--backend-cmd", sioApp, "--redis")...)
	// wslb's own command line names node and server.js, not a server id:
	// " io3" is the last server's node process.
	r.waitFor(t, "redis-server", time.Minute)
	r.waitFor(t, " io3", time.Minute)
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGINT))
	require.Equal(t, 130, r.wait(t, time.Minute), r.stderr.String())
	r.requireClean(t, "node")
	r.requireClean(t, "redis-server")
}
