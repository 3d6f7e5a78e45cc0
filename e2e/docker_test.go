package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// dockerSlots bounds the docker runs at once: the driver's address plan
// has four /17 blocks of 198.18.0.0/15, and the engine is slow to start
// containers on a busy machine.
var dockerSlots = make(chan struct{}, 3)

func dockerSlot(t *testing.T) {
	dockerSlots <- struct{}{}
	t.Cleanup(func() { <-dockerSlots })
}

// dockerArgs runs kind from the test image, at the version it holds.
func dockerArgs(kind proxybin.Kind) []string {
	return []string{"--driver", "docker", "--proxy", string(kind),
		"--proxy-version", string(kind) + "=" + testutil.DockerProxyVersions[kind],
		"--proxy-image", testutil.DockerProxyImage}
}

// dockerLeft lists the containers and networks a wslb process (by pid)
// labelled as its own.
func dockerLeft(t *testing.T, pid int) []string {
	t.Helper()
	c, err := client.New(client.FromEnv)
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	filter := client.Filters{}.Add("label", "wslb.owner")
	owner := fmt.Sprintf("%d ", pid)
	var left []string
	cs, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	require.NoError(t, err)
	for _, ct := range cs.Items {
		if strings.HasPrefix(ct.Labels["wslb.owner"], owner) {
			left = append(left, "container "+strings.Join(ct.Names, ","))
		}
	}
	ns, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	require.NoError(t, err)
	for _, n := range ns.Items {
		if strings.HasPrefix(n.Labels["wslb.owner"], owner) {
			left = append(left, "network "+n.Name)
		}
	}
	return left
}

// Every example passes on both proxies with every node a container, and
// the run leaves no container or network behind. examples/fanout.hcl's
// nodes join a Redis container of the run, which the broker-restart
// scenario stops and starts.
func TestVerifyDockerExamples(t *testing.T) {
	testutil.NeedDocker(t)
	examples, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, ex := range examples {
		for _, kind := range proxybin.Kinds {
			t.Run(strings.TrimSuffix(filepath.Base(ex), ".hcl")+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				dockerSlot(t)
				args := append([]string{"verify", "examples/" + filepath.Base(ex), "--clients", "40", "--format", "json"}, dockerArgs(kind)...)
				r := start(t, args...)
				code := r.wait(t, 5*time.Minute)
				require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
				var out struct {
					Passed    bool `json:"passed"`
					Scenarios []struct {
						Name   string `json:"name"`
						Passed bool   `json:"passed"`
					} `json:"scenarios"`
					Images []struct {
						Role, Ref, ID string
					} `json:"images"`
				}
				require.NoError(t, json.Unmarshal(r.stdout.Bytes(), &out), r.stdout.String())
				require.True(t, out.Passed)
				// The report names the images that ran: the one
				// --proxy-image gave, the node image of this wslb, and
				// the broker's; each with the engine's ID.
				images := map[string]string{}
				for _, im := range out.Images {
					require.True(t, strings.HasPrefix(im.ID, "sha256:"), "image %s has ID %q", im.Ref, im.ID)
					images[im.Role] = im.Ref
				}
				require.Equal(t, testutil.DockerProxyImage, images["proxy"], "%+v", out.Images)
				require.True(t, strings.HasPrefix(images["node"], "wslb-node:"), "%+v", out.Images)
				if filepath.Base(ex) == "fanout.hcl" {
					var ran []string
					for _, sc := range out.Scenarios {
						if sc.Passed {
							ran = append(ran, sc.Name)
						}
					}
					require.Subset(t, ran, []string{"fanout", "fanout-node-stop", "fanout-broker-restart"})
					require.Equal(t, "wslb-runtime:bookworm", images["broker"], "%+v", out.Images)
				}
				require.Empty(t, dockerLeft(t, r.cmd.Process.Pid))
			})
		}
	}
}

// A config without affinity fails stickiness on docker too.
func TestVerifyDockerRoundRobinFailsStickiness(t *testing.T) {
	testutil.NeedDocker(t)
	t.Parallel()
	dockerSlot(t)
	args := append([]string{"verify", "verify/testdata/configs/roundrobin.haproxy.cfg",
		"--clients", "30", "--reconnects", "2", "--scenarios", "stickiness,spread"}, dockerArgs(proxybin.HAProxy)...)
	r := start(t, args...)
	code := r.wait(t, 3*time.Minute)
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
	require.Contains(t, r.stdout.String(), "FAIL  stickiness")
	require.Regexp(t, `client-\d+: hit [23] backends`, r.stdout.String())
	require.Empty(t, dockerLeft(t, r.cmd.Process.Pid))
}

// A run killed with SIGKILL leaves its containers and network; `wslb
// verify --cleanup` removes them (and so every process in them).
func TestVerifyDockerKilledThenCleanup(t *testing.T) {
	testutil.NeedDocker(t)
	t.Parallel()
	dockerSlot(t)
	args := append([]string{"verify", "examples/chat.hcl", "--clients", "40", "--idle", "2m"}, dockerArgs(proxybin.Nginx)...)
	r := start(t, args...)
	pid := r.cmd.Process.Pid
	deadline := time.Now().Add(3 * time.Minute)
	for {
		left := dockerLeft(t, pid)
		if strings.Contains(strings.Join(left, " "), "-proxy") {
			break
		}
		require.True(t, time.Now().Before(deadline), "no proxy container within 3m; stderr:\n%s", r.stderr.String())
		select {
		case <-r.done:
			t.Fatalf("wslb exited before its proxy started: %d\nstderr:\n%s", r.code, r.stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	r.wait(t, 30*time.Second)
	require.NotEmpty(t, dockerLeft(t, pid), "a killed run cannot tear down")

	cleanup := start(t, "verify", "--cleanup")
	require.Equal(t, 0, cleanup.wait(t, time.Minute), "stderr:\n%s", cleanup.stderr.String())
	require.Contains(t, cleanup.stdout.String(), "removed container wslb-")
	require.Contains(t, cleanup.stdout.String(), "removed network wslb-")
	require.Empty(t, dockerLeft(t, pid))
}

// Faults on one backend, with every node a container, move only that
// backend's clients, the report says how long until they were served
// again, and the run leaves the host's network as it found it: the
// faults' rules, queues and relay live in the containers' namespaces (and
// on the engine's veth of the backend, which goes with it).
func TestVerifyDockerFaults(t *testing.T) {
	testutil.NeedDocker(t)
	t.Parallel()
	dockerSlot(t)
	before := hostState(t)
	args := append([]string{"verify", "examples/chat.hcl",
		"--clients", "60", "--reconnects", "2", "--messages", "2", "--scenarios", "stickiness",
		"--fault", "partition:ws1", "--fault", "pause:ws2", "--fault", "loss:ws3:5%", "--fault", "rate:ws1:2mbit",
		"--format", "json"}, dockerArgs(proxybin.HAProxy)...)
	r := start(t, args...)
	code := r.wait(t, 6*time.Minute)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", r.stdout.String(), r.stderr.String())
	requireFaultsMoveTheirClientsOnly(t, r.stdout.Bytes(), []string{"partition:ws1", "pause:ws2"}, "loss:ws3:5%", "rate:ws1:2mbit")
	require.Empty(t, dockerLeft(t, r.cmd.Process.Pid))
	requireHostAsItWas(t, before)
}

// examples/socketio.hcl with the user's own Node.js servers, each in a
// container of the runtime image, and the Redis adapter on a Redis
// container: every session stays on its server and a broadcast reaches
// every client exactly once, on both proxies. Without the adapter the
// broadcast fails, quoting the servers' output from their containers.
func TestVerifyDockerSocketIOApp(t *testing.T) {
	needSocketIO(t)
	testutil.NeedDockerRuntime(t)
	for _, c := range []struct {
		kind proxybin.Kind
		cmd  string
		pass bool
	}{{proxybin.HAProxy, sioApp, true}, {proxybin.Nginx, sioApp, true}, {proxybin.HAProxy, "WSLB_NO_ADAPTER=1 " + sioApp, false}} {
		name := string(c.kind)
		if !c.pass {
			name += "/no-adapter"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dockerSlot(t)
			args := append(sioVerify("examples/socketio.hcl", "--pool", "socketio", "--backend-cmd", c.cmd, "--redis",
				"--backend-image", testutil.DockerRuntimeImage), dockerArgs(c.kind)...)
			r := start(t, args...)
			code := r.wait(t, 4*time.Minute)
			out := r.stdout.String()
			flat := strings.Join(strings.Fields(out), " ")
			require.Contains(t, flat, "driver docker", "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			if c.pass {
				require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
				require.Contains(t, flat, "PASS stickiness 6/6 clients stayed on one backend")
				require.Contains(t, flat, "PASS broadcast every client received all 9 messages exactly once (6 clients on 3 servers)")
			} else {
				require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
				require.Regexp(t, `FAIL broadcast \d+ of \d+ deliveries lost, 0 duplicated`, flat)
				require.Contains(t, flat, "no Redis adapter", "the servers' output is quoted")
			}
			require.Empty(t, dockerLeft(t, r.cmd.Process.Pid))
		})
	}
}

// Every broker kind with every node a container: Redis and NATS run as
// containers of the runtime image, RabbitMQ and the in-process Kafka on a
// service host of the run (this host's binaries in a container's network
// namespace). Every client receives every message of its room exactly
// once, and the broker restart is survived or reported; nothing is left.
func TestVerifyDockerFanoutBrokers(t *testing.T) {
	testutil.NeedDockerRuntime(t)
	for _, b := range append(fanoutBrokers, struct {
		kind    broker.Kind
		process string
	}{broker.Kafka, ""}) {
		t.Run(string(b.kind), func(t *testing.T) {
			t.Parallel()
			dockerSlot(t)
			args := append([]string{"verify", "examples/chat.hcl", "--broker-start", string(b.kind), "--clients", "30", "--reconnects", "1",
				"--scenarios", "fanout,fanout-broker-restart"}, dockerArgs(proxybin.HAProxy)...)
			r := start(t, args...)
			code := r.wait(t, 4*time.Minute)
			out := r.stdout.String()
			flat := strings.Join(strings.Fields(out), " ")
			require.Contains(t, flat, "PASS fanout 1200/1200 deliveries (120 messages to 30 clients on 3 nodes): every message exactly once, in order", "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			m := regexp.MustCompile(`(PASS|FAIL) fanout-broker-restart .*?; broker restart: (\d+) refused, (\d+) lost`).FindStringSubmatch(flat)
			require.NotNil(t, m, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			if m[3] == "0" {
				require.Equal(t, "PASS", m[1], "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
				require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			} else {
				require.Equal(t, "FAIL", m[1], "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			}
			require.Empty(t, dockerLeft(t, r.cmd.Process.Pid))
			if b.kind == broker.RabbitMQ {
				// The one broker that is a process of this host's.
				r.requireClean(t, b.process)
			}
		})
	}
}

// What the docker driver cannot run is refused before anything starts,
// saying why and what to do instead: a --backend-cmd image that is not on
// the engine is missing environment (exit 4).
func TestVerifyDockerRefusesWhatItCannotRun(t *testing.T) {
	testutil.NeedDocker(t)
	cmd := exec.Command(wslbBin, append([]string{"verify", "examples/socketio.hcl", "--pool", "socketio", "--client", "socketio",
		"--backend-cmd", sioApp, "--backend-image", "wslb-no-such-image:1"}, dockerArgs(proxybin.HAProxy)...)...)
	cmd.Dir = ".."
	code, _, stderr := runToEnd(t, cmd, 2*time.Minute)
	require.Equal(t, 4, code, stderr)
	require.Contains(t, stderr, "backend image wslb-no-such-image:1 is not on the engine")
	require.Contains(t, stderr, "--backend-image")
}

// An image holding another version of the proxy than the one the run
// generated and checked the config for is refused (exit 4), naming the
// version it holds and the --proxy-version that runs it, instead of
// serving under the other version's name in the report.
func TestVerifyDockerRefusesAProxyImageOfAnotherVersion(t *testing.T) {
	testutil.NeedDocker(t)
	host := testutil.NeedProxy(t, proxybin.HAProxy)
	image := testutil.DockerProxyVersions[proxybin.HAProxy]
	if host.Version.String() == image || strings.HasPrefix(host.Version.String(), image+".") {
		t.Skipf("the installed haproxy %s is the image's version", host.Version)
	}
	dockerSlot(t)
	cmd := exec.Command(wslbBin, "verify", "examples/chat.hcl", "--driver", "docker", "--proxy", "haproxy",
		"--proxy-image", testutil.DockerProxyImage, "--scenarios", "stickiness", "--clients", "10")
	cmd.Dir = ".."
	code, _, stderr := runToEnd(t, cmd, 3*time.Minute)
	require.Equal(t, 4, code, stderr)
	require.Contains(t, stderr, "the image holds haproxy "+image+".")
	require.Contains(t, stderr, "--proxy-version haproxy="+image)
}
