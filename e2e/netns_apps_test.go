package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
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
// host of its own (flattened: a wrapped line loses its " · " at the break).
var backendsOnHosts = regexp.MustCompile(`driver netns (\([^)]*\) )?· proxy 198\.18\.0\.2:\d+ (· )?backends (\w+ 198\.18\.1\.\d+:\d+,? ?)+`)

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

// examples/fanout.hcl on the netns driver, on both proxies: its Redis runs
// on a host of its own, every node (an echo process in its host) joins
// it across the bridge, and every client receives every message of its
// room exactly once, also while a node stops.
func TestNetnsFanoutExamplePasses(t *testing.T) {
	needNetns(t)
	hostUnchanged(t)
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		r := start(t, "verify", "examples/fanout.hcl", "--driver", "netns", "--proxy", string(kind),
			"--clients", "30", "--reconnects", "1", "--scenarios", "fanout,fanout-node-stop")
		code := r.wait(t, 3*time.Minute)
		out := r.stdout.String()
		require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
		flat := strings.Join(strings.Fields(out), " ")
		require.Regexp(t, backendsOnHosts, flat)
		require.Contains(t, flat, "PASS fanout 1200/1200 deliveries (120 messages to 30 clients on 3 nodes): every message exactly once, in order")
		require.Regexp(t, `PASS fanout-node-stop \d+/1200 deliveries .*?; \d+ missed while away from stopped ws\d`, flat)
		r.requireClean(t, "redis-server")
	})
}

// Every broker wslb starts runs on a host of its own on the netns driver:
// the nodes deliver every message through it, and its restart (its
// process stopped and started again by PID) is survived or reported,
// with every node back on it.
func TestNetnsFanoutBrokers(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	for _, b := range []struct{ kind, process string }{{"redis", "redis-server"}, {"nats", "nats-server"}, {"rabbitmq", "rabbit"}, {"kafka", ""}} {
		t.Run(b.kind, func(t *testing.T) {
			t.Parallel()
			r := start(t, "verify", "examples/chat.hcl", "--driver", "netns", "--proxy", "haproxy", "--broker-start", b.kind,
				"--clients", "30", "--reconnects", "1", "--scenarios", "fanout,fanout-broker-restart")
			code := r.wait(t, 4*time.Minute)
			out := r.stdout.String()
			flat := strings.Join(strings.Fields(out), " ")
			require.Contains(t, flat, "PASS fanout 1200/1200 deliveries (120 messages to 30 clients on 3 nodes)", "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			m := regexp.MustCompile(`(PASS|FAIL) fanout-broker-restart .*?; broker restart: (\d+) refused, (\d+) lost`).FindStringSubmatch(flat)
			require.NotNil(t, m, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			require.NotContains(t, flat, "did not start again")
			require.NotContains(t, flat, "did not reconnect")
			if m[3] != "0" {
				require.Equal(t, "FAIL", m[1])
				require.Equal(t, 1, code)
			} else if m[1] == "PASS" {
				require.Equal(t, 0, code)
			}
			if b.process != "" {
				r.requireClean(t, b.process)
			}
		})
	}
}

// Each node on its own channel fails the fan-out on the netns driver too,
// naming what each node's clients missed.
func TestNetnsFanoutMiswiredBrokerFails(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, "verify", "examples/chat.hcl", "--driver", "netns", "--proxy", "haproxy", "--broker-start", "redis",
		"--clients", "30", "--reconnects", "1", "--scenarios", "fanout", "--broker-channel", "wslb-{id}")
	code := r.wait(t, 3*time.Minute)
	out := r.stdout.String()
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
	flat := strings.Join(strings.Fields(out), " ")
	require.Regexp(t, `FAIL fanout \d+/1200 deliveries \(120 messages to 30 clients on 3 nodes\): \d+ lost`, flat)
	missed := regexp.MustCompile(`clients on (ws\d) \(\d+\) missed \d+ messages, every one published through another node`).FindAllStringSubmatch(flat, -1)
	require.Len(t, missed, 3, flat)
	r.requireClean(t, "redis-server")
}

// SIGINT while the Socket.IO servers and Redis run in their hosts stops
// every process verify started and removes the run's namespaces.
func TestNetnsSocketIOInterrupted(t *testing.T) {
	needNetns(t)
	needSocketIO(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, sioVerify("examples/socketio.hcl", "--driver", "netns", "--proxy", "haproxy", "--backend-cmd", sioApp, "--redis")...)
	r.waitFor(t, "redis-server", time.Minute)
	r.waitFor(t, " io3", time.Minute)
	// The namespaces carry the pid of the wslb that made them: one of
	// the run's processes.
	ns := func() []string {
		r.mu.Lock()
		pids := map[string]bool{fmt.Sprint(r.cmd.Process.Pid): true}
		for pid := range r.seen {
			pids[fmt.Sprint(pid)] = true
		}
		r.mu.Unlock()
		entries, _ := os.ReadDir("/run/netns")
		var out []string
		for _, e := range entries {
			if f := strings.SplitN(e.Name(), "-", 3); len(f) == 3 && f[0] == "wslb" && pids[f[1]] {
				out = append(out, e.Name())
			}
		}
		return out
	}
	hosts := strings.Join(ns(), " ")
	require.Contains(t, hosts, "-s0", "Redis runs on a service host: %s", hosts)
	require.Contains(t, hosts, "-b2", "each server in its backend's host: %s", hosts)
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGINT))
	require.Equal(t, 130, r.wait(t, time.Minute), r.stderr.String())
	r.requireClean(t, "node")
	r.requireClean(t, "redis-server")
	require.Empty(t, ns(), "the run's namespaces are gone")
}

// Faults reach the user's servers in their hosts: pausing one freezes its
// process group (its clients move, no other does), a partition cuts its
// host off the proxy.
func TestNetnsBackendCmdFaults(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	bin := publicWslb(t)
	r := start(t, "verify", "examples/chat.hcl", "--driver", "netns", "--proxy", "haproxy",
		"--clients", "30", "--reconnects", "2", "--scenarios", "stickiness",
		"--backend-cmd", bin+" echo --id {id} --listen {host}:{port}", "--fault", "pause:ws2", "--fault", "partition:ws1")
	code := r.wait(t, 3*time.Minute)
	out := r.stdout.String()
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
	flat := strings.Join(strings.Fields(out), " ")
	require.Regexp(t, `PASS fault pause:ws2: (\d+)/(\d+) of ws2's clients moved, 0/\d+ others moved`, flat)
	m := regexp.MustCompile(`pause:ws2: (\d+)/(\d+) of ws2's clients moved`).FindStringSubmatch(flat)
	require.Equal(t, m[1], m[2], "every client of the paused server moved")
	require.NotEqual(t, "0", m[2], flat)
	require.Regexp(t, `partition:ws1: \d+/\d+ of ws1's clients moved, 0/\d+ others`, flat)
	r.requireClean(t, bin)
}

// Without the Redis adapter a broadcast stays on the server it was sent
// through, on the netns driver as on loopback: the scenario fails and
// quotes the servers' own output.
func TestNetnsSocketIOBroadcastWithoutAdapterFails(t *testing.T) {
	needNetns(t)
	needSocketIO(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, sioVerify("examples/socketio.hcl", "--driver", "netns", "--proxy", "haproxy", "--pool", "socketio", "--backend-cmd", "WSLB_NO_ADAPTER=1 "+sioApp, "--redis")...)
	code := r.wait(t, 2*time.Minute)
	out := r.stdout.String()
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
	flat := strings.Join(strings.Fields(out), " ")
	require.Contains(t, flat, "PASS stickiness")
	require.Regexp(t, `FAIL broadcast \d+ of \d+ deliveries lost, 0 duplicated`, flat)
	require.Contains(t, flat, "no Redis adapter", "the servers' output is quoted")
	r.requireClean(t, "node")
}
