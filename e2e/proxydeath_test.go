package e2e

import (
	"encoding/json"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// A proxy killed in the middle of a run fails it (exit 1), and the report
// says when it died and what it logged last.
func TestVerifyFailsWhenTheProxyDies(t *testing.T) {
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		// The idle hold keeps the run busy long enough to kill the proxy.
		r := start(t, "verify", "examples/chat.hcl", "--proxy", string(kind),
			"--clients", "20", "--reconnects", "1", "--messages", "1",
			"--scenarios", "stickiness", "--idle", "20s", "--format", "json")
		require.Eventually(t, func() bool { return r.oldest(string(kind)).pid != 0 }, 30*time.Second, 50*time.Millisecond)
		time.Sleep(3 * time.Second) // usually into the idle hold; earlier is fine too
		// Its whole process group, master and workers. (A short-lived
		// `nginx -v` seen earlier may be gone: pick again.)
		require.Eventually(t, func() bool {
			p := r.oldest(string(kind))
			f := statFields(p.pid)
			if p.pid == 0 || len(f) < 3 {
				return false
			}
			pgid, err := strconv.Atoi(f[2])
			// Never the group of the test or of wslb (a version probe
			// runs in it): only the proxy's own.
			if err != nil || pgid <= 1 || pgid == syscall.Getpgrp() {
				return false
			}
			if w := statFields(r.cmd.Process.Pid); len(w) >= 3 && w[2] == f[2] {
				return false
			}
			return syscall.Kill(-pgid, syscall.SIGKILL) == nil
		}, 10*time.Second, 50*time.Millisecond)
		code := r.wait(t, time.Minute)
		require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
		died := `the ` + string(kind) + ` proxy exited at \d\d:\d\d:\d\d\.\d{3} UTC \([0-9.]+m?s into the run\): (signal: killed|exit status \d+)`
		if r.stdout.Len() == 0 {
			// Killed while a scenario needed it: the run stops there.
			require.Regexp(t, died, r.stderr.String())
			require.Contains(t, r.stderr.String(), "proxy log")
		} else {
			var rep struct {
				Passed    bool `json:"passed"`
				Scenarios []struct {
					Name    string   `json:"name"`
					Passed  bool     `json:"passed"`
					Summary string   `json:"summary"`
					Details []string `json:"details"`
				} `json:"scenarios"`
			}
			require.NoError(t, json.Unmarshal(r.stdout.Bytes(), &rep), r.stdout.String())
			require.False(t, rep.Passed)
			idle := rep.Scenarios[len(rep.Scenarios)-1]
			require.Equal(t, "idle", idle.Name)
			require.False(t, idle.Passed)
			require.Regexp(t, "^"+died, idle.Summary)
			require.NotEmpty(t, idle.Details)
			require.Contains(t, idle.Details[0], "proxy log: ", "the proxy's last log lines come first")
		}
		r.requireClean(t, string(kind))
	})
}
