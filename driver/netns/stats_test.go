package netns_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/netns"
)

// The echo processes report their connection counters: open ones and
// those accepted, which only grow across a stop, a start and a kill; a
// paused process gives its last counters at once.
func TestEchoStatsCountTheProcessesConnections(t *testing.T) {
	needNetns(t)
	ctx := context.Background()
	env := open(t)
	sb, err := env.StartBackends(ctx, driver.BackendSpec{IDs: []string{"ws1", "ws2"}, Echo: true})
	require.NoError(t, err)
	b := sb.(*netns.Backends)
	dial := func() *websocket.Conn {
		t.Helper()
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return env.Clients().Dial(ctx, &net.Dialer{}, network, addr)
		}}
		c, _, err := d.DialContext(ctx, "ws://"+b.Addr("ws1")+"/", nil)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		// An echo back: the server has counted the connection.
		require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("hi")))
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		_, _, err = c.ReadMessage()
		require.NoError(t, err)
		return c
	}
	stats := func() map[string]driver.EchoStats { return b.EchoStats(ctx) }
	require.Equal(t, map[string]driver.EchoStats{"ws1": {}, "ws2": {}}, stats())

	conns := []*websocket.Conn{dial(), dial(), dial()}
	require.Equal(t, map[string]driver.EchoStats{"ws1": {Open: 3, Accepted: 3}, "ws2": {}}, stats(),
		"asked, a process answers with what it has accepted by now")
	require.NoError(t, conns[0].Close())
	require.Eventually(t, func() bool { return stats()["ws1"] == driver.EchoStats{Open: 2, Accepted: 3} },
		5*time.Second, 20*time.Millisecond)

	require.NoError(t, b.Pause(ctx, "ws1"))
	start := time.Now()
	require.Equal(t, driver.EchoStats{Open: 2, Accepted: 3}, stats()["ws1"])
	require.Less(t, time.Since(start), 400*time.Millisecond, "a paused process is not asked")
	require.NoError(t, b.Resume(ctx, "ws1"))

	require.NoError(t, b.Stop(ctx, "ws1"))
	require.Equal(t, driver.EchoStats{Open: 0, Accepted: 3}, stats()["ws1"], "a stopped backend keeps its count")
	require.NoError(t, b.Start(ctx, "ws1"))
	dial()
	require.Equal(t, driver.EchoStats{Open: 1, Accepted: 4}, stats()["ws1"], "and counts on after a start")
	require.NoError(t, b.Kill("ws1"))
	require.Equal(t, driver.EchoStats{Open: 0, Accepted: 4}, stats()["ws1"], "a killed one too")
}
