package verify

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The failover judges an orphan over the two settled probe rounds and its
// connection after them: a survivor change between them is a failure, as
// it was when every client connected twice after the probes.
func TestWithProbesJudgesOrphansOverThreeConnections(t *testing.T) {
	before := map[string]string{"a1": "a", "a2": "a", "b1": "b"}
	prev := []Trace{tr("a1", 0, "b"), tr("a2", 0, "b")}
	last := []Trace{tr("a1", 0, "b"), tr("a2", 0, "b")}
	during := []Trace{tr("a1", 0, "b"), tr("a2", 0, "c"), tr("b1", 0, "b")}

	got := withProbes(during, prev, last)
	require.Equal(t, []Trace{tr("a1", 0, "b", "b", "b"), tr("a2", 0, "b", "b", "c"), tr("b1", 0, "b")}, got)
	require.Equal(t, []Trace{tr("a1", 0, "b"), tr("a2", 0, "c"), tr("b1", 0, "b")}, during, "during is not modified")

	r := Failover(FailoverInput{Failed: "a", Before: before, During: got, Strict: true})
	require.Equal(t, 2, r.Orphans)
	require.Equal(t, 1, r.Repinned, "a2 left the survivor the probes put it on")
	require.Len(t, r.Unstuck, 1)
	require.Contains(t, r.Unstuck[0], "a2")
	require.Empty(t, r.OthersMoved)

	// A failed connection after the probes fails the orphan too.
	r = Failover(FailoverInput{Failed: "a", Before: before, During: withProbes([]Trace{tr("a1", 1), tr("a2", 0, "b"), tr("b1", 0, "b")}, prev, last), Strict: true})
	require.Equal(t, 1, r.Repinned)
	require.Equal(t, 1, r.Errors)
}
