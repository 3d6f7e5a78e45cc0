package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// hostUnchanged checks, once t and its subtests are done, that the host's
// network is as it was when it was called.
func hostUnchanged(t *testing.T) {
	t.Helper()
	before := hostState(t)
	t.Cleanup(func() {
		after := hostState(t)
		for k, v := range before {
			require.Equal(t, v, after[k], "the host's %s changed", k)
		}
	})
}

// backendsOnHosts matches the header line that places every backend on a
// host of its own.
var backendsOnHosts = regexp.MustCompile(`driver netns · proxy 198\.18\.0\.2:\d+ · backends (\w+ 198\.18\.1\.\d+:\d+,? ?)+`)

// examples/socketio.hcl with its --backend-cmd app and Redis adapter
// passes on the netns driver, on both proxies: each node process runs in
// its backend's host, Redis on a host of its own that every node reaches.
func TestNetnsSocketIOExamplePasses(t *testing.T) {
	needNetns(t)
	needSocketIO(t)
	hostUnchanged(t)
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		r := start(t, sioVerify("examples/socketio.hcl", "--driver", "netns", "--proxy", string(kind), "--pool", "socketio", "--backend-cmd", sioApp, "--redis")...)
		code := r.wait(t, 2*time.Minute)
		out := r.stdout.String()
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
		flat := strings.Join(strings.Fields(out), " ")
		require.Regexp(t, backendsOnHosts, flat)
		require.Contains(t, flat, "PASS stickiness 6/6 clients stayed on one backend")
		require.Contains(t, flat, "PASS broadcast every client received all 9 messages exactly once (6 clients on 3 servers)")
		r.requireClean(t, "node")
		r.requireClean(t, "redis-server")
	})
}

// Round robin in front of the Socket.IO app fails on the netns driver as
// it does on loopback: polling requests reach a server that never opened
// the session.
func TestNetnsSocketIORoundRobinFails(t *testing.T) {
	needNetns(t)
	needSocketIO(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, sioVerify(filepath.Join("testdata/socketio", "haproxy-roundrobin.cfg"), "--driver", "netns", "--backend-cmd", sioApp)...)
	code := r.wait(t, 2*time.Minute)
	out := r.stdout.String()
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
	flat := strings.Join(strings.Fields(out), " ")
	require.Contains(t, flat, "driver netns")
	require.Contains(t, flat, "FAIL stickiness 0/6 clients stayed on one backend")
	require.Regexp(t, `\d+ requests answered "Session ID unknown"`, flat)
	r.requireClean(t, "node")
}
