package testutil

import (
	"testing"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

func TestHelperEcho(t *testing.T) { ServeEchoBackends(t) }

func TestStartEchoBackends(t *testing.T) {
	t.Parallel()
	addrs, pid := StartEchoBackends(t, "TestHelperEcho", "a", "b")
	require.Positive(t, pid)
	require.Len(t, addrs, 2)
	for id, addr := range addrs {
		c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
		require.NoError(t, err, id)
		require.Equal(t, id, resp.Header.Get("X-Backend-Id"), "each address serves its own backend")
		require.NoError(t, c.Close())
	}
}

func TestBenchOnce(t *testing.T) {
	t.Parallel()
	calls := 0
	res := testing.Benchmark(func(b *testing.B) { BenchOnce(b, func() { calls++ }) })
	require.Positive(t, res.N)
	require.Equal(t, 1, calls, "measures once however many iterations run")
}
