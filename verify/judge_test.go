package verify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestJudgeFromObservations(t *testing.T) {
	servers := []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}}
	obs := &Observations{
		Scenarios:     []string{ScenarioReload, ScenarioStickiness, ScenarioSpread, ScenarioFailover, ScenarioIdle},
		MinStickiness: 1,
		Servers:       servers,
		Baseline: []Trace{
			{Client: "c1", Backends: []string{"a", "a"}},
			{Client: "c2", Backends: []string{"b", "a"}},
		},
		Failover: &FailoverObs{NoVictim: true},
		Skips:    map[string]string{ScenarioReload: "why not"},
		Notes:    map[string]Note{ScenarioStickiness: {Elapsed: time.Second, ProxyFailure: "the proxy exited", ProxyLog: []string{"bye"}}},
	}
	scs := Judge(obs)
	var names []string
	for _, sc := range scs {
		names = append(names, sc.Name)
	}
	// The report's order, whatever the order asked for.
	require.Equal(t, []string{ScenarioStickiness, ScenarioSpread, ScenarioFailover, ScenarioReload, ScenarioIdle}, names)
	require.False(t, scs[0].Passed)
	require.Equal(t, time.Second, scs[0].Elapsed)
	require.Contains(t, scs[0].Summary, "the proxy exited; 1/2 clients")
	require.Equal(t, "proxy log: bye", scs[0].Details[0])
	require.True(t, scs[1].Skipped, "2 clients are too few for spread")
	require.False(t, scs[2].Passed)
	require.Contains(t, scs[2].Summary, "nothing to fail over")
	require.True(t, scs[3].Skipped)
	require.Equal(t, "skipped: why not", scs[3].Summary)
	require.False(t, scs[4].Passed, "idle asked for but not observed")
	require.Contains(t, scs[4].Summary, "not observed")
	require.False(t, passed(scs))
}

func TestJudgeFailsBaselineScenariosOnFailedConnections(t *testing.T) {
	obs := &Observations{
		Scenarios:     []string{ScenarioStickiness},
		MinStickiness: 0.5,
		Baseline: []Trace{
			{Client: "c1", Backends: []string{"a", "a"}},
			{Client: "c2", Backends: []string{"a"}, Errors: 1},
		},
	}
	scs := Judge(obs)
	require.False(t, scs[0].Passed)
	require.Contains(t, scs[0].Summary, "1 connections failed, which this scenario does not test")
}
