package verify

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func tr(client string, errs int, backends ...string) Trace {
	return Trace{Client: client, Backends: backends, Errors: errs}
}

func TestEvalStickiness(t *testing.T) {
	tests := []struct {
		name      string
		traces    []Trace
		min       float64
		pass      bool
		frac      float64
		offenders []string
	}{
		{
			name:   "all sticky",
			traces: []Trace{tr("c1", 0, "a", "a", "a"), tr("c2", 0, "b", "b")},
			min:    1, pass: true, frac: 1,
		},
		{
			name:   "round robin",
			traces: []Trace{tr("c1", 0, "a", "b", "c"), tr("c2", 0, "b", "b")},
			min:    1, pass: false, frac: 0.5,
			offenders: []string{"c1: hit 3 backends: a → b → c"},
		},
		{
			name:   "below a relaxed threshold still passes",
			traces: []Trace{tr("c1", 0, "a", "b"), tr("c2", 0, "b"), tr("c3", 0, "c"), tr("c4", 0, "c")},
			min:    0.75, pass: true, frac: 0.75,
			offenders: []string{"c1: hit 2 backends: a → b"},
		},
		{
			name:   "failed connections are not sticky",
			traces: []Trace{tr("c1", 1, "a"), tr("c2", 2)},
			min:    1, pass: false, frac: 0,
			offenders: []string{"c1: 1 connections to a, 1 failed", "c2: no connection succeeded (2 failed)"},
		},
		{name: "no clients", min: 1, pass: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := EvalStickiness(tc.traces, tc.min)
			require.Equal(t, ScenarioStickiness, sc.Name)
			require.Equal(t, tc.pass, sc.Passed, sc.Summary)
			require.InDelta(t, tc.frac, Stickiness(tc.traces), 1e-9)
			require.Equal(t, tc.offenders, sc.Details)
		})
	}
}

func TestStickinessDetailsAreBounded(t *testing.T) {
	var traces []Trace
	for i := range 50 {
		traces = append(traces, tr(fmt.Sprintf("c%d", i), 0, "a", "b"))
	}
	sc := EvalStickiness(traces, 1)
	require.False(t, sc.Passed)
	require.Len(t, sc.Details, maxDetails+1)
	require.Equal(t, "… and 30 more", sc.Details[maxDetails])
	require.Contains(t, sc.Summary, "0/50 clients")
}

func clients(n int, backend string, prefix string) []Trace {
	var out []Trace
	for i := range n {
		out = append(out, tr(fmt.Sprintf("%s%d", prefix, i), 0, backend))
	}
	return out
}

func TestSpread(t *testing.T) {
	three := []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}, {ID: "c", Weight: 1}}
	tests := []struct {
		name      string
		traces    []Trace
		backends  []BackendInfo
		pass      bool
		maxMin    float64
		pAbove    float64 // p-value must be above (or -1: below pBelow)
		pBelow    float64
		detailHas string
	}{
		{
			name:     "even",
			traces:   append(append(clients(30, "a", "a"), clients(30, "b", "b")...), clients(30, "c", "c")...),
			backends: three, pass: true, maxMin: 1, pAbove: 0.99, pBelow: 1.01,
		},
		{
			name:     "one starved",
			traces:   append(clients(45, "a", "a"), clients(45, "b", "b")...),
			backends: three, pass: false, maxMin: math.Inf(1), pAbove: -1, pBelow: 1e-6,
			detailHas: "c received no client",
		},
		{
			name:     "weights followed",
			traces:   append(clients(60, "a", "a"), clients(20, "b", "b")...),
			backends: []BackendInfo{{ID: "a", Weight: 3}, {ID: "b", Weight: 1}},
			pass:     true, maxMin: 3, pAbove: 0.99, pBelow: 1.01,
		},
		{
			name:     "weights ignored",
			traces:   append(clients(40, "a", "a"), clients(40, "b", "b")...),
			backends: []BackendInfo{{ID: "a", Weight: 3}, {ID: "b", Weight: 1}},
			pass:     true, maxMin: 1, pAbove: -1, pBelow: 1e-4,
		},
		{
			name:     "backup used while primaries up",
			traces:   append(append(clients(10, "a", "a"), clients(10, "b", "b")...), clients(1, "spare", "s")...),
			backends: []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}, {ID: "spare", Weight: 1, Backup: true}},
			pass:     false, maxMin: 1, pAbove: 0.5, pBelow: 1.01,
			detailHas: "backup spare received 1 clients",
		},
		{
			name:     "unknown backend",
			traces:   append(append(clients(10, "a", "a"), clients(10, "b", "b")...), clients(1, "zz", "z")...),
			backends: []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}},
			pass:     false, maxMin: 1, pAbove: 0.5, pBelow: 1.01,
			detailHas: `"zz"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Spread(tc.traces, tc.backends)
			require.Equal(t, tc.maxMin, r.MaxMin)
			require.Greater(t, r.PValue, tc.pAbove)
			require.Less(t, r.PValue, tc.pBelow)
			sc := EvalSpread(tc.traces, tc.backends)
			require.Equal(t, tc.pass, sc.Passed, sc.Summary)
			if tc.detailHas != "" {
				require.Contains(t, strings.Join(sc.Details, "\n"), tc.detailHas)
			}
		})
	}
}

func TestSpreadNeedsEnoughClients(t *testing.T) {
	backends := []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}, {ID: "c", Weight: 2}, {ID: "s", Weight: 1, Backup: true}}
	require.Equal(t, 40, clientsForSpread(backends))
	sc := EvalSpread(append(clients(20, "a", "a"), clients(19, "b", "b")...), backends)
	require.True(t, sc.Skipped)
	require.Contains(t, sc.Summary, "39 clients are too few to judge the spread over these weights; use --clients 40 or more")
	sc = EvalSpread(append(clients(20, "a", "a"), clients(20, "b", "b")...), backends)
	require.False(t, sc.Skipped)
	require.False(t, sc.Passed, "c starved")
}

func TestSpreadChiSquareMatchesReference(t *testing.T) {
	// 3 backends, 90 clients: 40/30/20 against 30 each gives
	// chi² = (100+0+100)/30 = 6.667 on 2 degrees of freedom, p = e^(-chi²/2).
	traces := append(append(clients(40, "a", "a"), clients(30, "b", "b")...), clients(20, "c", "c")...)
	r := Spread(traces, []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}, {ID: "c", Weight: 1}})
	require.InDelta(t, 20.0/3, r.ChiSq, 1e-9)
	require.InDelta(t, math.Exp(-10.0/3), r.PValue, 1e-9)
	require.InDelta(t, 2.0, r.MaxMin, 1e-9)
}

func TestEvalFailover(t *testing.T) {
	before := map[string]string{"a1": "a", "a2": "a", "b1": "b", "c1": "c"}
	tests := []struct {
		name     string
		in       FailoverInput
		pass     bool
		repinned int
		moved    int
		back     int
		detail   string
	}{
		{
			name: "consistent: orphans re-pinned, others stay, orphans return",
			in: FailoverInput{
				Failed: "a", Before: before, Strict: true,
				During: []Trace{tr("a1", 0, "b", "b"), tr("a2", 0, "c", "c"), tr("b1", 0, "b", "b"), tr("c1", 0, "c", "c")},
				After:  []Trace{tr("a1", 0, "a", "a"), tr("a2", 0, "c"), tr("b1", 0, "b"), tr("c1", 0, "c")},
			},
			pass: true, repinned: 2, back: 1,
		},
		{
			name: "orphan bounces between survivors",
			in: FailoverInput{
				Failed: "a", Before: before, Strict: true,
				During: []Trace{tr("a1", 0, "b", "c"), tr("a2", 0, "c", "c"), tr("b1", 0, "b"), tr("c1", 0, "c")},
			},
			pass: false, repinned: 1, detail: "a1: a → b → c",
		},
		{
			name: "orphan still reaches the stopped backend",
			in: FailoverInput{
				Failed: "a", Before: before, Strict: true,
				During: []Trace{tr("a1", 0, "a"), tr("a2", 0, "c"), tr("b1", 0, "b"), tr("c1", 0, "c")},
			},
			pass: false, repinned: 1, detail: "still served by stopped a",
		},
		{
			name: "orphan connection errors fail",
			in: FailoverInput{
				Failed: "a", Before: before, Strict: true,
				During: []Trace{tr("a1", 1, "b"), tr("a2", 0, "c"), tr("b1", 0, "b"), tr("c1", 0, "c")},
			},
			pass: false, repinned: 1, detail: "a1: a → b (1 failed)",
		},
		{
			name: "strict: healthy client moved fails",
			in: FailoverInput{
				Failed: "a", Before: before, Strict: true,
				During: []Trace{tr("a1", 0, "b"), tr("a2", 0, "c"), tr("b1", 0, "c", "c"), tr("c1", 0, "c")},
			},
			pass: false, repinned: 2, moved: 1, detail: "b1: b → c → c",
		},
		{
			name: "map-based: healthy client moved is reported only",
			in: FailoverInput{
				Failed: "a", Before: before, Strict: false,
				During: []Trace{tr("a1", 0, "b"), tr("a2", 0, "c"), tr("b1", 0, "c", "c"), tr("c1", 0, "c")},
			},
			pass: true, repinned: 2, moved: 1, detail: "map-based hashing",
		},
		{
			name: "map-based: healthy client's failed connections fail",
			in: FailoverInput{
				Failed: "a", Before: before, Strict: false,
				During: []Trace{tr("a1", 0, "b"), tr("a2", 0, "c"), tr("b1", 2, "b"), tr("c1", 0, "c")},
			},
			pass: false, repinned: 2, moved: 1, detail: "b1: b → b (2 failed)",
		},
		{
			name: "nothing to fail over",
			in: FailoverInput{
				Failed: "a", Before: map[string]string{"b1": "b"}, Strict: true,
				During: []Trace{tr("b1", 0, "b")},
			},
			pass: false, detail: "a had no clients",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Failover(tc.in)
			require.Equal(t, tc.repinned, r.Repinned)
			require.Len(t, r.OthersMoved, tc.moved)
			require.Equal(t, tc.back, r.MovedBack)
			sc := EvalFailover(tc.in)
			require.Equal(t, tc.pass, sc.Passed, sc.Summary)
			if tc.detail != "" {
				require.Contains(t, strings.Join(sc.Details, "\n"), tc.detail)
			}
		})
	}
}

func TestEvalReload(t *testing.T) {
	before := map[string]string{"c1": "a", "c2": "b"}
	tests := []struct {
		name string
		in   ReloadInput
		pass bool
		has  string
	}{
		{
			name: "all survive",
			in:   ReloadInput{Held: 10, Before: before, New: []Trace{tr("c1", 0, "a"), tr("c2", 0, "b")}},
			pass: true, has: "10/10 open connections survived the reload; 2/2 new",
		},
		{
			name: "dropped",
			in:   ReloadInput{Held: 10, Dropped: []string{"c1: read: EOF"}, New: []Trace{tr("c1", 0, "a")}},
			pass: false, has: "9/10 open",
		},
		{
			name: "new connection refused",
			in:   ReloadInput{Held: 10, New: []Trace{tr("c1", 1)}},
			pass: false, has: "0/1 new",
		},
		{
			name: "moved clients reported",
			in:   ReloadInput{Held: 2, Before: before, New: []Trace{tr("c1", 0, "b"), tr("c2", 0, "b")}},
			pass: true, has: "1 clients moved",
		},
		{
			name: "clients on unknown backends are not counted as moved",
			in:   ReloadInput{Held: 2, Before: map[string]string{}, New: []Trace{tr("c1", 0, "b")}},
			pass: true, has: "2/2 open connections survived the reload; 1/1 new connections succeeded",
		},
		{name: "nothing held", in: ReloadInput{New: []Trace{tr("c1", 0, "a")}}, pass: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := EvalReload(tc.in)
			require.Equal(t, tc.pass, sc.Passed, sc.Summary)
			require.Contains(t, sc.Summary, tc.has)
		})
	}
}

func TestEvalIdle(t *testing.T) {
	sc := EvalIdle(5, nil, 3*time.Second)
	require.True(t, sc.Passed)
	require.Equal(t, "5/5 connections survived 3s idle", sc.Summary)

	sc = EvalIdle(5, []string{"c1: closed 1006"}, 3*time.Second)
	require.False(t, sc.Passed)
	require.Contains(t, sc.Details[0], "tunnel timeout")
	require.Equal(t, "c1: closed 1006", sc.Details[1])
}

func TestEvalFailoverUnpinned(t *testing.T) {
	in := FailoverInput{Failed: "a", Unpinned: true, During: []Trace{tr("c1", 0, "b", "c"), tr("c2", 0, "c", "b")}}
	sc := EvalFailover(in)
	require.True(t, sc.Passed, sc.Summary)
	require.Contains(t, sc.Summary, "4/4 connections served by survivors")

	in.During = append(in.During, tr("c3", 1, "a"))
	sc = EvalFailover(in)
	require.False(t, sc.Passed, sc.Summary)
	require.Equal(t, []string{"c3: a (1 failed)"}, sc.Details[:1])
	require.Contains(t, sc.Details[1], "observed in this run", "the timers come after the offenders")
}
