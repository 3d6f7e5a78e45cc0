package report

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./report -update")
	require.Equal(t, string(want), string(got), "output differs from %s; if intended, run go test ./report -update and review the diff", path)
}

// fixtureSummary is a verification of two proxies: haproxy with cookie
// affinity passing everything, nginx with round robin failing stickiness
// (with more details than the terminal lists) and failover, with errors.
func fixtureSummary() *Summary {
	started := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	return &Summary{
		Passed: false,
		Source: "examples/chat.hcl",
		Runs: []*Run{
			{
				Proxy: "haproxy", ProxyVersion: "2.6.12", Pool: "chat",
				Affinity: Affinity{Mode: "cookie", Key: "SERVERID"},
				Driver:   "docker", DriverWhy: "named by --driver",
				Hosts: Hosts{Proxy: "172.30.0.2:8000", Backends: map[string]string{"ws1": "172.30.1.2:8080", "ws2": "172.30.1.3:8080"},
					Clients: "200 source addresses in 2 /24s (first 172.30.4.1)"},
				Images: []Image{
					{Role: "proxy", Ref: "haproxy:2.6", ID: "sha256:5d3f4c8a9b1e2f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4"},
					{Role: "node", Ref: "wslb-node:0123456789abcdef", ID: "sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"},
					{Role: "broker", Ref: "wslb-runtime:bookworm"},
				},
				Passed: true, Started: started, Duration: 12400 * time.Millisecond,
				Clients: 200, Reconnects: 3, Messages: 10,
				Scenarios: []*Scenario{
					{Name: "stickiness", Passed: true, Summary: "200/200 clients stayed on one backend (100.0%)",
						Metrics: []Metric{{Name: "sticky clients", Value: 200, Unit: "clients"}, {Name: "clients", Value: 200, Unit: "clients"}, {Name: "stickiness", Value: 100, Unit: "%"}},
						Elapsed: 2100 * time.Millisecond},
					{Name: "spread", Passed: true, Summary: "every healthy backend got clients; max/min 1.09, p=0.412",
						Metrics: []Metric{{Name: "max/min", Value: 1.0869}, {Name: "p-value", Value: 0.41237}, {Name: "backends", Value: 3}},
						Elapsed: 1500 * time.Millisecond},
					{Name: "failover", Passed: true, Summary: "ws2 stopped: its 52 clients moved to survivors and stuck; 0 others moved",
						Metrics: []Metric{{Name: "moved others", Value: 0, Unit: "%"}, {Name: "moved back", Value: 48, Unit: "clients"}},
						Elapsed: 5200 * time.Millisecond},
					{Name: "reload", Passed: true, Summary: "reloaded with 200 connections open; 0 dropped, new connections work",
						Metrics: []Metric{{Name: "held connections", Value: 200, Unit: "connections"}, {Name: "dropped", Value: 0, Unit: "connections"}}, Elapsed: 2600 * time.Millisecond},
					{Name: "idle", Skipped: true, Summary: "not requested (--idle)"},
				},
				Stickiness: 1,
				Backends: []*Backend{
					{ID: "ws1", Weight: 1, Clients: 50, Connections: 800},
					{ID: "ws2", Weight: 1, Clients: 52, Connections: 700},
					{ID: "ws3", Weight: 2, Clients: 98, Connections: 1100},
					{ID: "ws4", Weight: 1, Backup: true, Clients: 0, Connections: 0},
				},
				RTT:       fixtureLatency(300, 140*time.Microsecond),
				DirectRTT: fixtureLatency(300, 60*time.Microsecond),
				Load:      Load{Messages: 8000, Elapsed: 900 * time.Millisecond, InFlight: 256, Queueing: fixtureLatency(8000, 12*time.Millisecond)},
				Errors:    Errors{Sent: 8000, Echoed: 8000},
				Timeline: fixtureTimeline(map[string]int{"ws1": 50, "ws2": 52, "ws3": 98},
					EventBackendDown, "ws2", 4, EventBackendUp, "ws2", 8, EventReload, "", 11),
			},
			{
				Proxy: "nginx", ProxyVersion: "1.22.1", Pool: "chat",
				Affinity: Affinity{Mode: "none"},
				Passed:   false, Started: started.Add(13 * time.Second), Duration: 11 * time.Second,
				Clients: 60, Reconnects: 3, Messages: 5,
				Scenarios: []*Scenario{
					{Name: "stickiness", Passed: false, Summary: "46/60 clients stayed on one backend (76.7%)",
						Metrics: []Metric{{Name: "sticky", Value: 76.6667, Unit: "%"}, {Name: "multi-backend", Value: 14, Unit: "clients"}},
						Details: fixtureDetails(14), Elapsed: 1900 * time.Millisecond},
					{Name: "spread", Passed: true, Summary: "every healthy backend got clients; p-value not computable",
						Metrics: []Metric{{Name: "max/min", Value: 1}, {Name: "p-value", Value: math.NaN()}},
						Elapsed: 1200 * time.Millisecond},
					{Name: "failover", Passed: false, Summary: "ws1 stopped: 9 of 40 clients of other backends moved (22.5%)",
						Metrics: []Metric{{Name: "moved others", Value: 22.5, Unit: "%"}},
						Details: []string{"client-0003 (127.1.0.4) moved ws2 → ws3", "client-0017 (127.1.0.18) moved ws3 → ws2"},
						Elapsed: 5 * time.Second},
				},
				Stickiness: 46.0 / 60,
				Backends: []*Backend{
					{ID: "ws1", Weight: 1, Clients: 20, Connections: 72},
					{ID: "ws2", Weight: 1, Clients: 20, Connections: 84},
					{ID: "ws3", Weight: 2, Clients: 20, Connections: 84},
				},
				RTT: fixtureLatency(1200, 210*time.Microsecond),
				Errors: Errors{Handshake: 1, Message: 3, Dropped: 2, Sent: 1200, Echoed: 1194, Samples: []string{
					"client-0007: read: connection reset by peer",
					"client-0031: websocket: close 1006 (abnormal closure): unexpected EOF",
					"client-0044: dial 127.0.0.1:39215: connect: connection refused",
					"client-0045: dial 127.0.0.1:39215: connect: connection refused",
				}},
				Timeline: fixtureTimeline(map[string]int{"ws1": 16, "ws2": 20, "ws3": 24},
					EventBackendDown, "ws1", 3, EventBackendUp, "ws1", 7),
			},
		},
	}
}

// fixtureDetails names n clients that hit several backends.
func fixtureDetails(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("client-%04d (127.1.%d.%d) hit ws1, ws2", i*4+2, i/200, i%200+3)
	}
	return out
}

// fixtureLatency is a log-spaced histogram: a bell around the median and
// a thin tail up to the maximum, adding up to samples.
func fixtureLatency(samples int64, median time.Duration) Latency {
	l := Latency{Samples: samples, P50: median, P90: median * 2, P99: median * 7, Max: median * 30}
	var bounds []time.Duration
	var weights []float64
	total := 0.0
	for bound := 20 * time.Microsecond; ; bound = bound * 5 / 4 {
		x := math.Log(float64(bound)/float64(median)) / 0.5
		w := math.Exp(-x*x/2) + 0.01
		bounds, weights, total = append(bounds, bound), append(weights, w), total+w
		if bound >= l.Max {
			break
		}
	}
	left := samples
	for i, bound := range bounds {
		n := int64(float64(samples) * weights[i] / total)
		if i == len(bounds)-1 {
			n = left
		}
		l.Histogram = append(l.Histogram, Bucket{UpperBound: bound, Count: n})
		left -= n
	}
	return l
}

// fixtureTimeline samples connections every second for 12 s around the
// given events (kind, detail, second triples). A stopped backend's
// clients spread over the others until it comes back. Samples count the
// connections served in their second, a few of which are open at it.
func fixtureTimeline(base map[string]int, events ...any) []Event {
	at := map[int]Event{}
	for i := 0; i+2 < len(events); i += 3 {
		sec := events[i+2].(int)
		at[sec] = Event{At: time.Duration(sec) * time.Second, Kind: events[i].(string), Detail: events[i+1].(string)}
	}
	down := ""
	var out []Event
	for sec := 0; sec <= 12; sec++ {
		ev, marked := at[sec]
		if !marked {
			ev = Event{At: time.Duration(sec) * time.Second, Kind: EventSample}
		}
		switch ev.Kind {
		case EventBackendDown:
			down = ev.Detail
		case EventBackendUp:
			down = ""
		}
		ev.Connections = map[string]int{}
		moved := 0
		if down != "" {
			moved = base[down]
		}
		served := map[string]int{}
		for id, n := range base {
			switch {
			case id == down:
				served[id] = 0
			case down != "":
				served[id] = n + moved/(len(base)-1)
			default:
				served[id] = n
			}
			ev.Connections[id] = served[id] / 10
		}
		if ev.Kind == EventSample {
			ev.Served, ev.Interval = served, time.Second
		}
		out = append(out, ev)
	}
	return out
}

func TestFixtureIsConsistent(t *testing.T) {
	s := fixtureSummary()
	require.Len(t, s.Runs, 2)
	for _, r := range s.Runs {
		var sum int64
		for _, b := range r.RTT.Histogram {
			sum += b.Count
		}
		require.Equal(t, r.RTT.Samples, sum, "%s histogram", r.Proxy)
	}
}
