package loopback_test

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
)

// A stopped backend refuses connections like a closed port, yet keeps its
// port from other processes, so Start gets it back.
func TestStoppedBackendKeepsItsPort(t *testing.T) {
	b, err := loopback.StartBackends([]string{"a"}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	addr := b.Addr("a")
	// Open while it stops: the backend closes it first, leaving its side
	// in TIME_WAIT on the port, which must not keep Start from it.
	open, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	defer open.Close()

	require.NoError(t, b.Stop(context.Background(), "a"))
	_, err = net.DialTimeout("tcp", addr, time.Second)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
	}
	require.ErrorIs(t, err, syscall.EADDRINUSE, "another listener took a stopped backend's port")

	require.NoError(t, b.Start(context.Background(), "a"))
	c, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	c.Close()
}
