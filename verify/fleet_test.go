package verify

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/topology"
)

// A check of held connections that the deadline cuts short must not pass
// for a check that found nothing dropped.
func TestHoldCheckFailsWhenCutShort(t *testing.T) {
	t.Parallel()
	srv, err := echo.New(echo.Config{ID: "b1"})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	plan := poolPlan{Listener: ln.Addr().String(), Path: "/", Key: Key{Mode: topology.AffinityNone}}
	f, err := newFleet(plan, Options{Clients: 20, Messages: 1}, nil)
	require.NoError(t, err)
	hd, err := f.hold(context.Background())
	require.NoError(t, err)
	t.Cleanup(hd.close)
	require.Equal(t, 20, hd.held)

	dropped, err := hd.check(context.Background())
	require.NoError(t, err)
	require.Empty(t, dropped)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = hd.check(ctx)
	require.ErrorIs(t, err, context.Canceled)
}
