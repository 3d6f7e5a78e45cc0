package verify

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

// The RTT a report shows for a proxy must be the probe's (one message in
// flight, through the proxy and straight to a backend), not the load
// phases' round trips, which include the time each message waits behind
// the others. Counting samples tells them apart without timing anything on
// a shared machine: the probe makes exactly probeConns × probeMessages ×
// probeRounds round trips each way, and the load its own, reported apart.
// How close the probe comes to a plain ping-pong is BenchmarkReportedRTT.
func TestReportedRTTIsTheProbes(t *testing.T) {
	t.Parallel()
	for _, kind := range proxybin.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			testutil.NeedProxy(t, kind)
			s, err := VerifyTopology(context.Background(), chatTopology(t), rttOptions(kind))
			require.NoError(t, err)
			require.Len(t, s.Runs, 1)
			run := s.Runs[0]
			probe := int64(probeConns * probeMessages * probeRounds)
			require.Equal(t, probe, run.RTT.Samples, "the reported RTT is the probe's through the proxy")
			require.Equal(t, probe, run.DirectRTT.Samples, "and straight to a backend")
			require.Positive(t, run.Load.Messages, "the load is reported apart")
			require.Equal(t, run.Load.Messages, run.Load.Queueing.Samples, "with its own round trips")
		})
	}
}

// BenchmarkReportedRTT reports, per proxy, the report's RTT p50 over the
// median of a plain gorilla ping-pong through the same proxy, measured
// while it still runs: about 1 when the probe measures the path and not a
// queue or the processes' wake-ups.
func BenchmarkReportedRTT(b *testing.B) {
	for _, kind := range proxybin.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			testutil.NeedProxy(b, kind)
			topo := chatTopology(b)
			var ratios []float64
			for range b.N {
				var pingPong time.Duration
				opts := rttOptions(kind)
				opts.afterRun = func(plan poolPlan) { pingPong = medianPingPong(b, plan, 200) }
				s, err := VerifyTopology(context.Background(), topo, opts)
				require.NoError(b, err)
				ratios = append(ratios, float64(s.Runs[0].RTT.P50)/float64(pingPong))
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "reported/ping-pong")
		})
	}
}

func chatTopology(tb testing.TB) *topology.Topology {
	tb.Helper()
	topo, diags := topology.NewLoader().LoadFile("../examples/chat.hcl")
	require.False(tb, diags.HasErrors(), "%v", diags)
	return topo
}

func rttOptions(kind proxybin.Kind) Options {
	return Options{Proxies: []proxybin.Kind{kind}, Clients: 30, Reconnects: 1, Messages: 2,
		Scenarios: []string{ScenarioStickiness}, Timeout: time.Minute}
}

// medianPingPong sends n messages one after the other on one connection
// through the pool's listener and returns the median round trip.
func medianPingPong(t testing.TB, plan poolPlan, n int) time.Duration {
	t.Helper()
	u := url.URL{Scheme: "ws", Host: plan.Listener, Path: plan.Path}
	h := http.Header{}
	if plan.Origin != "" {
		h.Set("Origin", plan.Origin)
	}
	c, _, err := websocket.DefaultDialer.Dial(u.String(), h)
	require.NoError(t, err)
	defer c.Close()
	msg := []byte("ping-pong xxxxxxxxxxxxxxxxxxxxxx")
	rtts := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		require.NoError(t, c.WriteMessage(websocket.TextMessage, msg))
		_, _, err := c.ReadMessage()
		require.NoError(t, err)
		rtts = append(rtts, time.Since(start))
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2]
}
