package verify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A fault passes when the faulted backend's clients are served again and
// nobody else moves; a client of another backend that moves fails it.
func TestEvalFault(t *testing.T) {
	in := FaultInput{
		Spec: "pause:ws2", Backend: "ws2", MinStickiness: 1,
		Before:         map[string]string{"a": "ws1", "b": "ws2", "c": "ws2"},
		During:         []Trace{{Client: "a", Backends: []string{"ws1", "ws1"}}, {Client: "b", Backends: []string{"ws1", "ws1"}}, {Client: "c", Backends: []string{"ws3", "ws3"}}},
		FirstReconnect: 300 * time.Millisecond, AllServed: 900 * time.Millisecond, Settled: true,
	}
	sc := EvalFault(in)
	require.True(t, sc.Passed, sc.Summary)
	require.Contains(t, sc.Summary, "pause:ws2: 2/2 of ws2's clients moved, 0/1 others moved; first reconnect 300ms after the fault, all served after 900ms")

	in.During[0].Backends = []string{"ws3", "ws3"}
	sc = EvalFault(in)
	require.False(t, sc.Passed)
	require.Contains(t, sc.Details, "a moved from ws1 to ws3 though ws2 was faulted")

	in.During[0].Backends = []string{"ws1", "ws3"}
	sc = EvalFault(in)
	require.False(t, sc.Passed, "stickiness broken while the fault was on")

	in.During[0].Backends = []string{"ws1"}
	in.Settled = false
	sc = EvalFault(in)
	require.False(t, sc.Passed)
	require.Contains(t, sc.Summary, "were not all served again")

	// Light loss that the checks do not notice: nobody moves, and that
	// passes.
	sc = EvalFault(FaultInput{Spec: "loss:ws2:5%", Backend: "ws2", MinStickiness: 1, Settled: true,
		Before: map[string]string{"a": "ws2"}, During: []Trace{{Client: "a", Backends: []string{"ws2", "ws2"}}}})
	require.True(t, sc.Passed, sc.Summary)
	require.Contains(t, sc.Summary, "0/1 of ws2's clients moved")
}

func TestFaultScenarioNeedsFaults(t *testing.T) {
	_, err := Options{Scenarios: []string{ScenarioFault}, Driver: "loopback"}.Normalize()
	require.ErrorContains(t, err, "the fault scenario needs faults to inject")
}
