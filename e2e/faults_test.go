package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// faultScenario is the fault scenario of the one run in a JSON report,
// and its metrics by name.
func faultScenario(t *testing.T, out []byte) (fault struct {
	Name    string
	Passed  bool
	Summary string
}, metric map[string]float64) {
	t.Helper()
	rep := readReport(t, out)
	require.Len(t, rep.Runs, 1)
	for _, sc := range rep.Runs[0].Scenarios {
		if sc.Name != "fault" {
			continue
		}
		fault.Name, fault.Passed, fault.Summary = sc.Name, sc.Passed, sc.Summary
		metric = map[string]float64{}
		for _, m := range sc.Metrics {
			metric[m.Name] = m.Value
		}
	}
	require.NotNil(t, metric, "no fault scenario:\n%s", out)
	return fault, metric
}

// requireFaultsMoveTheirClientsOnly reads a one-run JSON report whose
// fault scenario passed: under each fault of moving (a partition, a
// pause) every client of the faulted backend moved, no other did, and the
// failover time is reported; under each fault of staying (loss, rate)
// nobody moved and the others stayed sticky.
func requireFaultsMoveTheirClientsOnly(t *testing.T, out []byte, moving []string, staying ...string) {
	t.Helper()
	fault, metric := faultScenario(t, out)
	require.True(t, fault.Passed, fault.Summary)
	for _, spec := range moving {
		require.Zero(t, metric[spec+": other clients moved"], fault.Summary)
		require.Equal(t, metric[spec+": clients of "+strings.Split(spec, ":")[1]], metric[spec+": of them moved"], fault.Summary)
		require.Positive(t, metric[spec+": first reconnect after the fault"], fault.Summary)
	}
	for _, spec := range staying {
		require.Zero(t, metric[spec+": other clients moved"], fault.Summary)
		require.Equal(t, 100.0, metric[spec+": stickiness during"], fault.Summary)
	}
}
