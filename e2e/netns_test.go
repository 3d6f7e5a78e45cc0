package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// needNetns skips unless the netns driver can run (root); CI runs as
// root, so there these run.
func needNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the netns end-to-end tests must run as root in CI")
		}
		t.Skip("the netns driver needs root")
	}
}

// netnsReport is the part of a JSON report these tests read.
type netnsReport struct {
	Passed bool `json:"passed"`
	Runs   []struct {
		Proxy     string `json:"proxy"`
		Passed    bool   `json:"passed"`
		Driver    string `json:"driver"`
		DriverWhy string `json:"driver_why"`
		Timeline  []struct {
			Kind   string         `json:"kind"`
			Served map[string]int `json:"served"`
		} `json:"timeline"`
		Hosts struct {
			Proxy    string            `json:"proxy"`
			Backends map[string]string `json:"backends"`
			Clients  string            `json:"clients"`
		} `json:"hosts"`
		Scenarios []struct {
			Name    string `json:"name"`
			Passed  bool   `json:"passed"`
			Summary string `json:"summary"`
			Metrics []struct {
				Name  string  `json:"name"`
				Value float64 `json:"value"`
			} `json:"metrics"`
		} `json:"scenarios"`
	} `json:"runs"`
}

func readReport(t *testing.T, out []byte) netnsReport {
	t.Helper()
	var rep netnsReport
	if !strings.Contains(string(out), `"runs"`) {
		// One run is written as the run object itself.
		var one struct{ Passed bool }
		require.NoError(t, json.Unmarshal(out, &one), string(out))
		require.NoError(t, json.Unmarshal([]byte(`{"passed":`+fmt.Sprint(one.Passed)+`,"runs":[`+string(out)+`]}`), &rep), string(out))
		return rep
	}
	require.NoError(t, json.Unmarshal(out, &rep), string(out))
	return rep
}

// A run on the netns driver passes on both proxies, says where it ran,
// and leaves the host's network exactly as it found it.
func TestNetnsLeavesTheHostAsItWas(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	testutil.NeedProxy(t, proxybin.Nginx)
	before := hostState(t)
	r := start(t, "verify", "examples/chat.hcl", "--driver", "netns", "--proxy", "all",
		"--clients", "40", "--reconnects", "2", "--messages", "2", "--format", "json")
	code := r.wait(t, 3*time.Minute)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
	rep := readReport(t, r.stdout.Bytes())
	require.True(t, rep.Passed)
	require.Len(t, rep.Runs, 2)
	for _, run := range rep.Runs {
		require.Equal(t, "netns", run.Driver)
		require.True(t, strings.HasPrefix(run.Hosts.Proxy, "198.18.0."), run.Hosts.Proxy)
		for id, addr := range run.Hosts.Backends {
			require.True(t, strings.HasPrefix(addr, "198.18.1."), "%s at %s", id, addr)
		}
		require.Contains(t, run.Hosts.Clients, "40 source addresses in 40 /24s (first 198.19.")
	}
	r.requireClean(t, "haproxy")
	requireHostAsItWas(t, before)
}

// As root, --driver auto (the default) runs on the netns driver, says so
// and why, and its timeline counts the connections each backend served.
func TestNetnsIsAutosPickAsRoot(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, "verify", "examples/chat.hcl", "--proxy", "haproxy",
		"--clients", "30", "--reconnects", "2", "--messages", "2", "--format", "json")
	code := r.wait(t, 2*time.Minute)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
	rep := readReport(t, r.stdout.Bytes())
	require.Len(t, rep.Runs, 1)
	run := rep.Runs[0]
	require.Equal(t, "netns", run.Driver)
	require.Equal(t, "auto: ranks first and can run here", run.DriverWhy)
	require.NotContains(t, r.stdout.String(), `"images"`, "netns runs no container images")
	served := 0
	for _, ev := range run.Timeline {
		for _, n := range ev.Served {
			served += n
		}
	}
	require.Positive(t, served, "the timeline counts what the backends served")
	r.requireClean(t, "haproxy")
}

// Every example passes on the netns driver, on both proxies; configs
// without affinity fail stickiness there too.
func TestNetnsExamplesAndRoundRobin(t *testing.T) {
	needNetns(t)
	examples, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, path := range examples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var extra []string
			if filepath.Base(path) == "fanout.hcl" {
				// Its Redis broker runs on a host of its own. Redis
				// pub/sub keeps nothing while the nodes reconnect, so a
				// broker restart is reported as lost messages, a failure
				// by design (TestNetnsFanoutBrokers judges it).
				extra = []string{"--scenarios", "spread,fanout,fanout-node-stop"}
			}
			t.Parallel()
			testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
				r := start(t, append([]string{"verify", "examples/" + filepath.Base(path), "--driver", "netns", "--proxy", string(kind),
					"--clients", "30", "--reconnects", "2", "--messages", "2", "--format", "json"}, extra...)...)
				code := r.wait(t, 3*time.Minute)
				require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
				for _, run := range readReport(t, r.stdout.Bytes()).Runs {
					require.Equal(t, "netns", run.Driver)
					require.True(t, run.Passed)
				}
			})
		})
	}
	for _, cfg := range []string{"roundrobin.haproxy.cfg", "roundrobin.nginx.conf"} {
		t.Run(cfg, func(t *testing.T) {
			t.Parallel()
			kind := proxybin.HAProxy
			if strings.Contains(cfg, "nginx") {
				kind = proxybin.Nginx
			}
			testutil.NeedProxy(t, kind)
			r := start(t, "verify", "verify/testdata/configs/"+cfg, "--driver", "netns",
				"--clients", "30", "--reconnects", "2", "--messages", "2", "--scenarios", "stickiness,spread")
			code := r.wait(t, 2*time.Minute)
			require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
			require.Contains(t, r.stdout.String(), "FAIL  stickiness")
			require.Contains(t, r.stdout.String(), "driver    netns")
		})
	}
}

// Faults on one backend move only that backend's clients, and the report
// says how long until they were served again.
func TestNetnsFaults(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, "verify", "examples/chat.hcl", "--driver", "netns", "--proxy", "haproxy",
		"--clients", "60", "--reconnects", "2", "--messages", "2", "--scenarios", "stickiness",
		"--fault", "partition:ws1", "--fault", "pause:ws2", "--fault", "loss:ws3:5%", "--format", "json")
	code := r.wait(t, 5*time.Minute)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
	requireFaultsMoveTheirClientsOnly(t, r.stdout.Bytes(), []string{"partition:ws1", "pause:ws2"}, "loss:ws3:5%")
	r.requireClean(t, "haproxy")
}

// A run killed with SIGKILL cannot tear down; `wslb verify --cleanup`
// then removes its namespaces, and no process of it is left.
func TestNetnsKilledRunThenCleanup(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	r := start(t, "verify", "examples/chat.hcl", "--driver", "netns", "--proxy", "haproxy",
		"--clients", "20", "--scenarios", "stickiness", "--idle", "60s")
	r.waitFor(t, "haproxy", time.Minute)
	// The namespaces carry the pid of the wslb that made them: one of
	// the run's processes.
	ours := func() []string {
		r.mu.Lock()
		pids := map[string]bool{fmt.Sprint(r.cmd.Process.Pid): true}
		for pid := range r.seen {
			pids[fmt.Sprint(pid)] = true
		}
		r.mu.Unlock()
		entries, _ := os.ReadDir("/run/netns")
		var out []string
		for _, e := range entries {
			f := strings.SplitN(e.Name(), "-", 3)
			if len(f) == 3 && f[0] == "wslb" && pids[f[1]] {
				out = append(out, e.Name())
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return len(ours()) >= 5 }, 30*time.Second, 50*time.Millisecond)
	time.Sleep(time.Second) // into the run
	left := ours()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGKILL))
	r.wait(t, 30*time.Second)
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range r.seen {
			if alive(p) {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond, "every process dies with the run (parent-death signals)")
	for _, ns := range left {
		require.FileExists(t, filepath.Join("/run/netns", ns), "a killed run leaves its namespaces")
	}

	code, out, errOut := runToEnd(t, exec.Command(wslbBin, "verify", "--cleanup"), time.Minute)
	require.Equal(t, 0, code, errOut)
	for _, ns := range left {
		require.Contains(t, out, "removed network namespace "+ns)
		require.NoFileExists(t, filepath.Join("/run/netns", ns))
	}
}
