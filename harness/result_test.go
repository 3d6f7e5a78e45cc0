package harness

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLatencyBuckets(t *testing.T) {
	t.Parallel()
	h := NewHistogram()
	for _, v := range []struct{ us, n int64 }{{15, 10}, {120, 5}, {3000, 1}} {
		require.NoError(t, h.RecordValues(v.us, v.n))
	}
	lat := LatencyOf(h)
	require.Equal(t, int64(16), lat.Samples)
	require.InDelta(t, 15*time.Microsecond, lat.P50, float64(time.Microsecond))
	require.InDelta(t, 3000*time.Microsecond, lat.Max, float64(5*time.Microsecond))
	got := map[time.Duration]int64{}
	var bounds []time.Duration
	for _, b := range lat.Histogram {
		got[b.UpperBound] = b.Count
		bounds = append(bounds, b.UpperBound)
	}
	us := time.Microsecond
	require.Equal(t, []time.Duration{20 * us, 50 * us, 100 * us, 200 * us, 500 * us, 1000 * us, 2000 * us, 5000 * us}, bounds)
	require.Equal(t, int64(10), got[20*us])
	require.Equal(t, int64(5), got[200*us])
	require.Equal(t, int64(1), got[5000*us])
	require.Zero(t, got[50*us]+got[100*us]+got[500*us]+got[1000*us]+got[2000*us])

	require.Equal(t, LatencyOf(nil).Samples, int64(0))
}

func TestStickiness(t *testing.T) {
	t.Parallel()
	conns := func(backends ...string) []ConnResult {
		var out []ConnResult
		for _, b := range backends {
			c := ConnResult{Backend: b}
			if b == "" {
				c.Err = "handshake failed"
			}
			out = append(out, c)
		}
		return out
	}
	r := &Result{Clients: []ClientResult{
		{Client: Client{Name: "a"}, Conns: conns("ws1", "ws1", "ws1")},
		{Client: Client{Name: "b"}, Conns: conns("ws1", "", "ws1")}, // a failure does not break stickiness
		{Client: Client{Name: "c"}, Conns: conns("ws2", "ws1", "ws2")},
		{Client: Client{Name: "d"}, Conns: conns("", "")}, // never identified
	}}
	sticky, identified := r.Stickiness()
	require.Equal(t, 2, sticky)
	require.Equal(t, 3, identified)
	un := r.Unsticky()
	require.Len(t, un, 1)
	require.Equal(t, "c", un[0].Client.Name)
	require.Equal(t, []string{"ws2", "ws1"}, un[0].Distinct())
	require.Equal(t, []string{"ws2", "ws1", "ws2"}, un[0].Backends())
	require.Equal(t, "ws2", un[0].First())
	require.Equal(t, "", r.Clients[3].First())
}
