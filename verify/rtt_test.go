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

// The RTT a report shows for a proxy must be the proxy's: within 2× of a
// single connection's ping-pong through the same proxy, measured apart
// with a plain gorilla client while the proxy still runs. A shared machine
// is noisy, so each proxy gets a few attempts and one must agree; the
// proxies run one after the other so that they do not load each other.
func TestReportedRTTMatchesPingPong(t *testing.T) {
	t.Parallel()
	for _, kind := range proxybin.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			testutil.NeedProxy(t, kind)
			topo, diags := topology.NewLoader().LoadFile("../examples/chat.hcl")
			require.False(t, diags.HasErrors(), "%v", diags)
			var ratios []float64
			for attempt := 0; attempt < 5; attempt++ {
				var pingPong time.Duration
				opts := Options{Proxies: []proxybin.Kind{kind}, Clients: 30, Reconnects: 1, Messages: 2,
					Scenarios: []string{ScenarioStickiness}, Timeout: time.Minute}
				opts.afterRun = func(plan poolPlan) { pingPong = medianPingPong(t, plan, 200) }
				s, err := VerifyTopology(context.Background(), topo, opts)
				require.NoError(t, err)
				require.Len(t, s.Runs, 1)
				reported := s.Runs[0].RTT
				require.Positive(t, reported.Samples, "the probe measured round trips")
				require.Positive(t, s.Runs[0].DirectRTT.Samples, "and straight to a backend")
				require.Positive(t, s.Runs[0].Load.Messages, "the load is reported apart")
				ratio := float64(reported.P50) / float64(pingPong)
				ratios = append(ratios, ratio)
				if ratio >= 0.5 && ratio <= 2 {
					t.Logf("%s: reported p50 %s, ping-pong median %s (ratio %.2f)", kind, reported.P50, pingPong, ratio)
					return
				}
			}
			t.Fatalf("%s: reported RTT / ping-pong RTT was %v in every attempt, not within 2×", kind, ratios)
		})
	}
}

// medianPingPong sends n messages one after the other on one connection
// through the pool's listener and returns the median round trip.
func medianPingPong(t *testing.T, plan poolPlan, n int) time.Duration {
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
