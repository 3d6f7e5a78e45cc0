package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	var doc struct {
		Runs []struct {
			Proxy     string `json:"proxy"`
			Scenarios []struct {
				Name    string `json:"name"`
				Passed  bool   `json:"passed"`
				Skipped bool   `json:"skipped"`
				Summary string `json:"summary"`
			} `json:"scenarios"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
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
