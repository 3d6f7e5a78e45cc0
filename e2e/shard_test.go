package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// shardTopology is one WebSocket pool of three servers with the given
// balance and affinity lines.
func shardTopology(pool string) string {
	return `
listener "main" {
  address = "0.0.0.0:8080"
}
route "ws" {
  path      = "/ws"
  websocket = true
  pool      = "ws"
}
pool "ws" {
` + pool + `
  health_check {
    interval = "1s"
  }
  server "a" {
    address = "10.0.0.1:80"
  }
  server "b" {
    address = "10.0.0.2:80"
  }
  server "c" {
    address = "10.0.0.3:80"
  }
}
`
}

// verdicts are a JSON report's runs: per proxy, each scenario's verdict.
type verdicts map[string]map[string]string

func readVerdicts(t *testing.T, out string) (verdicts, map[string]map[string]string) {
	t.Helper()
	type run struct {
		Proxy     string `json:"proxy"`
		Scenarios []struct {
			Name    string `json:"name"`
			Passed  bool   `json:"passed"`
			Skipped bool   `json:"skipped"`
			Summary string `json:"summary"`
		} `json:"scenarios"`
	}
	// One run is the document itself; several are under "runs".
	var doc struct {
		run
		Runs []run `json:"runs"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	if doc.Runs == nil {
		doc.Runs = []run{doc.run}
	}
	v, summaries := verdicts{}, map[string]map[string]string{}
	for _, r := range doc.Runs {
		v[r.Proxy], summaries[r.Proxy] = map[string]string{}, map[string]string{}
		for _, sc := range r.Scenarios {
			verdict := map[bool]string{true: "PASS", false: "FAIL"}[sc.Passed]
			if sc.Skipped {
				verdict = "SKIP"
			}
			v[r.Proxy][sc.Name] = verdict
			summaries[r.Proxy][sc.Name] = sc.Summary
		}
	}
	return v, summaries
}

// Four shards, each a wslb process running its slice of the clients
// against its own local topology, merged by wslb report merge, give the
// verdicts of the same run unsharded: on a sticky topology every
// scenario passes both ways, on a round-robin one stickiness fails both
// ways.
func TestShardedRunMergesToTheUnshardedVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name, pool string
		want       string // stickiness verdict
	}{
		{"sticky", "affinity {\n mode = \"source\"\n nginx_method = \"hash\"\n}", "PASS"},
		{"round-robin", "balance = \"roundrobin\"\naffinity {\n mode = \"none\"\n}", "FAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, k := range proxybin.Kinds {
				testutil.NeedProxy(t, k)
			}
			dir := t.TempDir()
			topo := filepath.Join(dir, tc.name+".hcl")
			require.NoError(t, os.WriteFile(topo, []byte(shardTopology(tc.pool)), 0o644))
			args := []string{"verify", topo, "--proxy", "all", "--clients", "80", "--reconnects", "2", "--messages", "1", "--format", "json"}
			wantCode := map[string]int{"PASS": 0, "FAIL": 1}[tc.want]

			type result struct {
				code           int
				stdout, stderr string
			}
			results := make([]result, 5) // four shards, then the unsharded run
			var wg sync.WaitGroup
			for i := range 5 {
				wg.Go(func() {
					a := append([]string{}, args...)
					if i < 4 {
						a = append(a, "--shard", fmt.Sprintf("%d/4", i), "--results", filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)))
					} else {
						a = append(a, "--results", filepath.Join(dir, "all.json"))
					}
					cmd := exec.Command(wslbBin, a...)
					cmd.Env = append(os.Environ(), "NO_COLOR=1")
					var r result
					r.code, r.stdout, r.stderr = runToEnd(t, cmd, 4*time.Minute)
					results[i] = r
				})
			}
			wg.Wait()
			for i, r := range results[:4] {
				require.Equal(t, 0, r.code, "shard %d exits 0 once its results are written: %s", i, r.stderr)
				require.Contains(t, r.stderr, fmt.Sprintf("shard %d/4: results written", i))
			}
			whole := results[4]
			require.Equal(t, wantCode, whole.code, whole.stderr)
			want, wantSummaries := readVerdicts(t, whole.stdout)
			require.Len(t, want, 2, whole.stdout)

			var shards []string
			for i := range 4 {
				shards = append(shards, filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)))
			}
			code, stdout, stderr := wslbIn(t, dir, append([]string{"report", "merge", "--format", "json"}, shards...)...)
			require.Equal(t, wantCode, code, stderr)
			got, gotSummaries := readVerdicts(t, stdout)
			require.Equal(t, want, got, "merged:\n%s\nunsharded:\n%s", stdout, whole.stdout)
			for proxy, v := range got {
				require.Equal(t, tc.want, v["stickiness"], proxy)
				require.Equal(t, "PASS", v["spread"], proxy)
				if tc.want == "PASS" {
					require.Equal(t, wantSummaries[proxy]["stickiness"], gotSummaries[proxy]["stickiness"], proxy)
				}
				if tc.want == "PASS" && proxy == string(proxybin.HAProxy) {
					// The same clients hash alike, whichever process runs
					// them: HAProxy places servers on its ring by their
					// ids. (NGINX places them by address, and each shard's
					// local servers listen on ports of their own.)
					require.Equal(t, wantSummaries[proxy]["spread"], gotSummaries[proxy]["spread"], proxy)
				}
			}

			// The unsharded run's own results, merged alone, are judged as
			// verify judged them: one Judge.
			code, stdout, stderr = wslbIn(t, dir, "report", "merge", "--format", "json", filepath.Join(dir, "all.json"))
			require.Equal(t, wantCode, code, stderr)
			_, alone := readVerdicts(t, stdout)
			require.Equal(t, wantSummaries, alone)

			// Three of four shards are not the run.
			code, _, stderr = wslbIn(t, dir, append([]string{"report", "merge"}, shards[:3]...)...)
			require.Equal(t, 3, code)
			require.Contains(t, stderr, "shard 3/4 missing")
		})
	}
}

// startEcho runs `wslb echo --id id` on a free loopback port until the
// test ends and returns its address.
func startEcho(t *testing.T, id string) string {
	t.Helper()
	cmd := exec.Command(wslbBin, "echo", "--id", id, "--listen", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	var addr string
	_, err = fmt.Sscanf(line, "echo backend "+id+" listening on %s", &addr)
	require.NoError(t, err, line)
	return addr
}

// freePort is a loopback port nobody listened on a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// Shards can also drive one proxy deployed by someone else (here: the
// generated HAProxy config run by hand in front of two `wslb echo`
// servers): --against starts nothing, the shards' clients share the one
// proxy, and failover and reload are skipped, saying why.
func TestShardsAgainstADeployedProxy(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	dir := t.TempDir()
	a, b, listen := startEcho(t, "a"), startEcho(t, "b"), freePort(t)
	topo := filepath.Join(dir, "deployed.hcl")
	require.NoError(t, os.WriteFile(topo, []byte(`
listener "main" {
  address = "`+listen+`"
}
route "ws" {
  path      = "/ws"
  websocket = true
  pool      = "ws"
}
pool "ws" {
  affinity {
    mode   = "cookie"
    cookie = "SRV"
  }
  server "a" {
    address = "`+a+`"
  }
  server "b" {
    address = "`+b+`"
  }
}
`), 0o644))
	code, _, stderr := wslbIn(t, dir, "generate", topo, "--proxy", "haproxy", "-o", "gen")
	require.Equal(t, 0, code, stderr)
	cfg, err := os.ReadFile(filepath.Join(dir, "gen", "haproxy.cfg"))
	require.NoError(t, err)
	// What a deployment provides (a chroot, a user, /run, syslog) this
	// machine does not: keep the rest of the generated config as it is.
	var kept []string
	for _, line := range strings.Split(string(cfg), "\n") {
		if f := strings.Fields(line); len(f) > 0 && slices.Contains([]string{"chroot", "user", "group", "pidfile", "stats", "log"}, f[0]) && !strings.HasPrefix(line, "    log global") {
			continue
		}
		kept = append(kept, line)
	}
	deployed := filepath.Join(dir, "deployed.cfg")
	require.NoError(t, os.WriteFile(deployed, []byte(strings.Join(kept, "\n")), 0o644))
	bin, err := proxybin.Find(proxybin.HAProxy, proxybin.Want{})
	require.NoError(t, err)
	hp := exec.Command(bin.Path, "-db", "-f", deployed)
	require.NoError(t, hp.Start())
	t.Cleanup(func() { _ = hp.Process.Kill(); _ = hp.Wait() })
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)

	var shards []string
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		shards = append(shards, filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)))
		wg.Go(func() {
			cmd := exec.Command(wslbBin, "verify", topo, "--against", listen, "--clients", "60", "--shard", fmt.Sprintf("%d/2", i), "--results", shards[i])
			codes[i], _, _ = runToEnd(t, cmd, 2*time.Minute)
		})
	}
	wg.Wait()
	require.Equal(t, []int{0, 0}, codes)
	code, stdout, stderr := wslbIn(t, dir, append([]string{"report", "merge", "--format", "json"}, shards...)...)
	require.Equal(t, 0, code, stderr)
	got, summaries := readVerdicts(t, stdout)
	require.Equal(t, verdicts{"deployed": {"stickiness": "PASS", "spread": "PASS", "failover": "SKIP", "reload": "SKIP"}}, got, stdout)
	require.Equal(t, "60/60 clients stayed on one backend (100.0%)", summaries["deployed"]["stickiness"])
	require.Contains(t, summaries["deployed"]["failover"], "--against drives a deployed topology")
}
