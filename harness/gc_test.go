package harness

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// Overlapping opens lower the GC target once and restore what they found
// when the last ends; a lower target or collection turned off is kept.
func TestLowerGCNestsAndRestores(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })

	a := lowerGC()
	b := lowerGC()
	require.Equal(t, openGCPercent, debug.SetGCPercent(openGCPercent))
	a()
	require.Equal(t, openGCPercent, debug.SetGCPercent(openGCPercent), "restored while a session still opens")
	b()
	require.Equal(t, 100, debug.SetGCPercent(100))

	for _, p := range []int{-1, 10} {
		debug.SetGCPercent(p)
		restore := lowerGC()
		require.Equal(t, p, debug.SetGCPercent(p))
		restore()
		require.Equal(t, p, debug.SetGCPercent(p))
	}
}
