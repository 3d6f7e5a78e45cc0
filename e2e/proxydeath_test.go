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

// A proxy killed, or whose master is stopped, in the middle of a run fails
// it (exit 1), and the report says when it went and what it logged last.
func TestVerifyFailsWhenTheProxyDies(t *testing.T) {
	const when = `at \d\d:\d\d:\d\d\.\d{3} UTC \([0-9.]+m?s into the run\)`
	for _, tc := range []struct {
		name string
		// hit acts on the proxy's master p, and reports whether it could.
		hit func(r *run, p proc) bool
		// says is the account of what happened, after "the KIND proxy ".
		says string
	}{
		// Its whole process group, master and workers.
		{"killed", killGroup, `exited ` + when + `: (signal: killed|exit status \d+)`},
		// The workers still serve, and the kernel still completes
		// handshakes on the listener: only the master's state shows it.
		{"stopped", func(_ *run, p proc) bool { return syscall.Kill(p.pid, syscall.SIGSTOP) == nil },
			`stopped answering on \S+ ` + when + `: the master process is stopped`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
				// The idle hold keeps the run busy long enough to hit the proxy.
				// On loopback: the hit must land after the proxy is
				// ready, and loopback starts fastest on a loaded box
				// (the netns driver runs the same proxy wrapper).
				r := start(t, "verify", "examples/chat.hcl", "--proxy", string(kind), "--driver", "loopback",
					"--clients", "20", "--reconnects", "1", "--messages", "1",
					"--scenarios", "stickiness", "--idle", "20s", "--format", "json")
				require.Eventually(t, func() bool { return r.oldest(string(kind)).pid != 0 }, 30*time.Second, 50*time.Millisecond)
				time.Sleep(3 * time.Second) // usually into the idle hold; earlier is fine too
				// A short-lived `nginx -v` seen earlier may be gone: pick again.
				require.Eventually(t, func() bool {
					p := r.oldest(string(kind))
					return p.pid != 0 && tc.hit(r, p)
				}, 10*time.Second, 50*time.Millisecond)
				code := r.wait(t, time.Minute)
				require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
				says := `the ` + string(kind) + ` proxy ` + tc.says
				if r.stdout.Len() == 0 {
					// Hit while a scenario needed it: the run stops there.
					require.Regexp(t, says, r.stderr.String())
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
					require.Regexp(t, "^"+says, idle.Summary)
					require.NotEmpty(t, idle.Details)
					require.Contains(t, idle.Details[0], "proxy log: ", "the proxy's last log lines come first")
				}
				r.requireClean(t, string(kind))
			})
		})
	}
}

// killGroup kills the process group of the proxy's master p: never the
// group of the test or of wslb (a version probe runs in it), only the
// proxy's own.
func killGroup(r *run, p proc) bool {
	f := statFields(p.pid)
	if len(f) < 3 {
		return false
	}
	pgid, err := strconv.Atoi(f[2])
	if err != nil || pgid <= 1 || pgid == syscall.Getpgrp() {
		return false
	}
	if w := statFields(r.cmd.Process.Pid); len(w) >= 3 && w[2] == f[2] {
		return false
	}
	return syscall.Kill(-pgid, syscall.SIGKILL) == nil
}
