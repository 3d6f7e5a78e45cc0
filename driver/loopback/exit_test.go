package loopback

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An exit is a death unless its stop was asked for first.
func TestExitIsADeathUnlessExpected(t *testing.T) {
	x := NewExit()
	_, _, ok := x.Died()
	require.False(t, ok, "still running")
	require.NoError(t, x.Err())
	at, status := time.Now(), errors.New("signal: killed")
	x.Record(at, status)
	<-x.Exited()
	gotAt, gotStatus, ok := x.Died()
	require.True(t, ok)
	require.Equal(t, at, gotAt)
	require.Equal(t, status, gotStatus)
	require.Equal(t, status, x.Err())

	y := NewExit()
	y.Expect()
	y.Record(time.Now(), status)
	_, _, ok = y.Died()
	require.False(t, ok, "Close asked for it")
	require.Equal(t, status, y.Err())
}
