package verify_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/verify"
)

// movedByReload is the reload scenario's count of clients that reached
// another backend than before the reload.
func movedByReload(t *testing.T, s *report.Summary) float64 {
	t.Helper()
	require.Len(t, s.Runs, 1)
	sc := scenario(s.Runs[0], verify.ScenarioReload)
	require.NotNil(t, sc, reportText(s))
	for _, m := range sc.Metrics {
		if m.Name == "clients moved by the reload" {
			return m.Value
		}
	}
	t.Fatalf("reload reports no moved clients metric\n%s", reportText(s))
	return 0
}

// A failover re-pins the stopped backend's clients to survivors and the
// proxy rewrites their affinity cookie; the reload after it must compare
// with where they are now, not with where they started.
func TestE2EReloadAfterFailoverMovesNobody(t *testing.T) {
	tests := []struct {
		name string
		kind proxybin.Kind
		run  func(opts verify.Options) (*report.Summary, error)
	}{
		{"haproxy cookie insert", proxybin.HAProxy, func(opts verify.Options) (*report.Summary, error) {
			return verify.VerifyConfig(context.Background(), filepath.Join("testdata", "configs", "sticky-cookie.haproxy.cfg"), "", opts)
		}},
		{"nginx cookie.hcl", proxybin.Nginx, func(opts verify.Options) (*report.Summary, error) {
			topo := load(t, filepath.Join("..", "examples", "cookie.hcl"))
			opts.Proxies = []proxybin.Kind{proxybin.Nginx}
			return verify.VerifyTopology(context.Background(), topo, opts)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.NeedProxy(t, tc.kind)
			opts := small()
			opts.Scenarios = []string{verify.ScenarioFailover, verify.ScenarioReload}
			s, err := tc.run(opts)
			require.NoError(t, err)
			text := reportText(s)
			fo := scenario(s.Runs[0], verify.ScenarioFailover)
			require.True(t, fo.Passed, text)
			require.Contains(t, fo.Summary, "0 moved back", text)
			require.Zero(t, movedByReload(t, s), text)
			require.True(t, scenario(s.Runs[0], verify.ScenarioReload).Passed, text)
			requireTimelineServes(t, s.Runs[0])
		})
	}
}

// Without affinity a client with a single connection per phase looks
// "stuck" to whatever backend it got; round robin sending it elsewhere
// after the reload is no move.
func TestE2EReloadWithoutAffinityMovesNobody(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	opts := small()
	opts.Reconnects = 0
	opts.Scenarios = []string{verify.ScenarioReload}
	s, err := verify.VerifyConfig(context.Background(), filepath.Join("testdata", "configs", "roundrobin.haproxy.cfg"), "", opts)
	require.NoError(t, err)
	text := reportText(s)
	require.Equal(t, "none", s.Runs[0].Affinity.Mode, text)
	require.Zero(t, movedByReload(t, s), text)
	require.NotContains(t, text, "moved to another backend")
}

// requireTimelineServes checks the timeline's samples count the
// connections each backend served per interval: clients keep connecting
// in most phases, so many intervals served some, although connections are
// seldom open at the instant of a sample. (While the proxy has not yet
// noticed the stopped backend, its clients' probes fail: nothing served.)
func requireTimelineServes(t *testing.T, r *report.Run) {
	t.Helper()
	samples, busy, open := 0, 0, 0
	for _, ev := range r.Timeline {
		if ev.Kind != report.EventSample {
			continue
		}
		samples++
		require.Positive(t, ev.Interval)
		served, opened := 0, 0
		for _, b := range r.Backends {
			n, ok := ev.Served[b.ID]
			require.True(t, ok, "sample at %s lacks backend %s", ev.At, b.ID)
			served += n
			opened += ev.Connections[b.ID]
		}
		if served > 0 {
			busy++
		}
		if opened > 0 {
			open++
		}
	}
	require.Positive(t, samples)
	require.GreaterOrEqual(t, busy, open, "fewer samples served connections than had some open")
	require.GreaterOrEqual(t, 4*busy, samples, "only %d of %d samples served connections", busy, samples)
}
