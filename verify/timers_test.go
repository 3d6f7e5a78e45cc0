package verify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

func TestConfigTimersWithFastInter(t *testing.T) {
	t.Parallel()
	// inter 3s fastinter 1s downinter 10s rise 2 fall 3, read by rewrite.
	ha := Timers{Kind: proxybin.HAProxy, Timers: rewrite.Timers{Known: true, Checks: true, Interval: 3 * time.Second, FastInter: time.Second,
		DownInter: 10 * time.Second, Rise: 2, Fall: 3}}
	d, ok := ha.RouteAround()
	require.True(t, ok)
	require.Equal(t, 5*time.Second, d, "the first failed check within inter, two more fastinter apart")
	require.Equal(t, 11*time.Second, ha.TakeBack(), "the first good check within downinter, one more fastinter later")
	require.Contains(t, ha.Describe(), "~5s (inter 3s, then fastinter 1s, fall 3)")

	require.Equal(t, "production timers unknown", Timers{Kind: proxybin.HAProxy}.Short())
	ng := Timers{Kind: proxybin.Nginx, Timers: rewrite.Timers{Known: true, Checks: true, MaxFails: 2, FailTimeout: 30 * time.Second}}
	require.Equal(t, 30*time.Second, ng.TakeBack())
	require.Contains(t, ng.Describe(), "after 2 failures (max_fails) and tries it again every 30s")
}

func TestPoolTimers(t *testing.T) {
	t.Parallel()
	p := &topology.Pool{Health: topology.HealthCheck{Enabled: true, Interval: 2 * time.Second, Rise: 2, Fall: 3}}
	ha := poolTimers(p, proxybin.HAProxy)
	d, ok := ha.RouteAround()
	require.True(t, ok)
	require.Equal(t, 6*time.Second, d)
	require.Equal(t, 4*time.Second, ha.TakeBack())
	require.Contains(t, ha.Describe(), "~6s (inter 2s × fall 3)")

	ng := poolTimers(p, proxybin.Nginx)
	require.Equal(t, 3, ng.MaxFails)
	require.Equal(t, 6*time.Second, ng.FailTimeout)
	d, ok = ng.RouteAround()
	require.True(t, ok)
	require.Zero(t, d)
	require.Equal(t, 6*time.Second, ng.TakeBack())

	// As the generator renders it: fail_timeout in whole seconds, at least 1.
	p.Health.Interval = 300 * time.Millisecond
	require.Equal(t, time.Second, poolTimers(p, proxybin.Nginx).FailTimeout)
	p.Health.Interval = 700 * time.Millisecond
	require.Equal(t, 3*time.Second, poolTimers(p, proxybin.Nginx).FailTimeout)

	p.Health.Enabled = false
	_, ok = poolTimers(p, proxybin.HAProxy).RouteAround()
	require.False(t, ok, "without checks HAProxy never marks a server down")
	require.Contains(t, Timers{}.Describe(), "could not be read")
}

func TestFmtDur(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		1660 * time.Millisecond: "1.66s", 6 * time.Second: "6s", 1234567 * time.Microsecond: "1.23s",
		310 * time.Millisecond: "310ms", 100 * time.Millisecond: "100ms",
	} {
		require.Equal(t, want, fmtDur(d), "%v", d)
	}
}

func TestWithFastChecksCopies(t *testing.T) {
	t.Parallel()
	srv := &topology.Server{Name: "a"}
	orig := &topology.Topology{Pools: []*topology.Pool{
		{Name: "ws", Servers: []*topology.Server{srv}, Health: topology.HealthCheck{Enabled: true, Interval: 2 * time.Second, Timeout: 200 * time.Millisecond, Rise: 2, Fall: 3}},
		{Name: "off", Health: topology.HealthCheck{Enabled: false, Interval: 2 * time.Second}},
	}}
	fast := withFastChecks(orig)
	require.Equal(t, FastCheckInterval, fast.Pools[0].Health.Interval)
	require.Equal(t, fastCheckTimeout, fast.Pools[0].Health.Timeout, "a slow check on a busy machine must not mark a server down")
	require.Equal(t, 3, fast.Pools[0].Health.Fall, "rise and fall stay as written")
	require.Same(t, srv, fast.Pools[0].Servers[0], "same servers, so backend ids still apply")
	require.Equal(t, 2*time.Second, fast.Pools[1].Health.Interval, "pools without checks are left alone")
	require.Equal(t, 2*time.Second, orig.Pools[0].Health.Interval, "the original is not modified")
}

func TestFailoverReportsProductionAndObservedTimes(t *testing.T) {
	t.Parallel()
	in := FailoverInput{
		Failed: "b",
		Before: map[string]string{"c1": "a", "c2": "b"},
		During: []Trace{{Client: "c1", Backends: []string{"a"}}, {Client: "c2", Backends: []string{"a"}}},
		Strict: true, Settle: 400 * time.Millisecond, ProxyDown: 300 * time.Millisecond, FastChecks: true,
		Timers: Timers{Kind: proxybin.HAProxy, Timers: rewrite.Timers{Known: true, Checks: true, Interval: 2 * time.Second, Rise: 2, Fall: 3}},
	}
	sc := EvalFailover(in)
	require.True(t, sc.Passed, sc.Summary)
	require.Contains(t, sc.Summary, "routed around in 400ms here (production timers: ~6s)")
	require.Contains(t, sc.Details[len(sc.Details)-1], "routes around a dead server in ~6s")
	require.Contains(t, sc.Details[len(sc.Details)-1], "observed in this run: clients routed around b after 400ms (the proxy marked it down after 300ms)")
	require.Equal(t, 6000.0, metricValue(t, sc, "route around with production timers"))
	require.Equal(t, 300.0, metricValue(t, sc, "proxy marked it down after"))
}

func metricValue(t testing.TB, sc *report.Scenario, name string) float64 {
	t.Helper()
	for _, m := range sc.Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	t.Fatalf("no metric %q in %+v", name, sc.Metrics)
	return 0
}
