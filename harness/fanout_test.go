package harness_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/harness"
)

// memBus is a broker in memory shared by the nodes that subscribe to it.
type memBus struct {
	mu    sync.Mutex
	nodes []*echo.Server
}

func (b *memBus) Publish(_ context.Context, room string, payload []byte) error {
	b.mu.Lock()
	nodes := append([]*echo.Server(nil), b.nodes...)
	b.mu.Unlock()
	for _, n := range nodes {
		n.Deliver(room, payload)
	}
	return nil
}

// startBusNodes starts an echo backend per id, each on its own bus when
// split, else all on one.
func startBusNodes(t *testing.T, split bool, ids ...string) []*backend {
	t.Helper()
	shared := &memBus{}
	var out []*backend
	for _, id := range ids {
		bus := shared
		if split {
			bus = &memBus{}
		}
		srv, err := echo.New(echo.Config{ID: id, Bus: bus})
		require.NoError(t, err)
		bus.mu.Lock()
		bus.nodes = append(bus.nodes, srv)
		bus.mu.Unlock()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		out = append(out, &backend{srv: srv, addr: ln.Addr().String()})
	}
	return out
}

func openFanout(t *testing.T, url string, clients int, spec harness.FanoutSpec) *harness.Fanout {
	t.Helper()
	h, err := harness.New(harness.Config{URL: url, Clients: clients, Concurrency: 8})
	require.NoError(t, err)
	f, err := h.OpenFanout(context.Background(), spec)
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f
}

func publishAll(t *testing.T, f *harness.Fanout, k int) {
	t.Helper()
	for m := 1; m <= k; m++ {
		require.NoError(t, f.Publish(context.Background(), m))
	}
}

func TestFanoutDeliversEveryMessageOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	nodes := startBusNodes(t, false, "n1", "n2", "n3")
	_, url := startAffinityProxy(t, harness.ModeNone, "", nodes)
	const clients, room, k = 30, 10, 3
	f := openFanout(t, url, clients, harness.FanoutSpec{RoomSize: room, Messages: k})
	publishAll(t, f, k)
	f.Wait(context.Background(), clients*room*k, 2*time.Second, 20*time.Second)
	res := f.Result()
	require.Len(t, res.Clients, clients)
	nodesSeen := map[string]bool{}
	for _, c := range res.Clients {
		require.Empty(t, c.Err)
		require.Len(t, c.Backends, 1)
		nodesSeen[c.Backends[0]] = true
		require.Equal(t, room, c.RoomLen)
		for i, g := range c.Got {
			require.EqualValues(t, 1, g, "%s: message %d of publisher %d", c.Client.Name, i%k+1, c.RoomStart+i/k)
		}
		require.Zero(t, c.Reordered+c.Foreign+c.Other)
		for m := range k {
			require.False(t, c.SentAt[m].IsZero())
			require.NotEmpty(t, c.Via[m])
		}
	}
	require.Len(t, nodesSeen, 3, "round robin put clients on every node")
	require.EqualValues(t, clients*room*k, res.Latency.Samples)
	require.Positive(t, res.Latency.P50)
}

func TestFanoutOnSplitBusesMissesOtherNodesMessages(t *testing.T) {
	t.Parallel()
	nodes := startBusNodes(t, true, "n1", "n2", "n3")
	_, url := startAffinityProxy(t, harness.ModeNone, "", nodes)
	f := openFanout(t, url, 9, harness.FanoutSpec{RoomSize: 9, Messages: 2})
	publishAll(t, f, 2)
	f.Wait(context.Background(), 9*9*2, 500*time.Millisecond, 10*time.Second)
	for _, c := range f.Result().Clients {
		for i, g := range c.Got {
			from := f.Result().Clients[c.RoomStart+i/2]
			same := from.Backends[0] == c.Backends[0]
			require.Equal(t, same, g == 1, "%s from %s", c.Client.Name, from.Client.Name)
		}
	}
}

func TestFanoutClientsComeBackAfterTheirNodeStops(t *testing.T) {
	t.Parallel()
	nodes := startBusNodes(t, false, "n1", "n2", "n3")
	p, url := startAffinityProxy(t, harness.ModeNone, "", nodes)
	const clients, k = 12, 4
	f := openFanout(t, url, clients, harness.FanoutSpec{RoomSize: 6, Messages: k})
	publishAll(t, f, 2)
	f.Wait(context.Background(), clients*6*2, time.Second, 10*time.Second)

	p.setDown(1)
	require.NoError(t, nodes[1].srv.Close())
	// Clients notice the drop and come back through the proxy.
	require.Eventually(t, func() bool {
		for _, c := range f.Result().Clients {
			if c.Backends[0] == "n2" && (len(c.Away) == 0 || c.Away[0].Rejoined.IsZero()) {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond)
	for m := 3; m <= k; m++ {
		require.NoError(t, f.Publish(context.Background(), m))
	}
	f.Wait(context.Background(), clients*6*k, time.Second, 10*time.Second)
	moved := 0
	for _, c := range f.Result().Clients {
		if c.Backends[0] != "n2" {
			require.Empty(t, c.Away, c.Client.Name)
			continue
		}
		moved++
		require.Len(t, c.Backends, 2)
		require.NotEqual(t, "n2", c.Backends[1])
		for _, g := range c.Got {
			require.EqualValues(t, 1, g, "nothing was published while they were away")
		}
	}
	require.Equal(t, clients/3, moved)
}

// downBus is a broker that is down: it refuses every publication, after
// delay (a busy node answering late).
type downBus struct{ delay time.Duration }

func (b downBus) Publish(ctx context.Context, _ string, _ []byte) error {
	time.Sleep(b.delay)
	return errors.New("broker down")
}

// Publish returns once the round is written; WaitRefused waits until the
// nodes have refused all of it, so a broker restart cannot come before a
// node read the round published while the broker was down.
func TestFanoutWaitRefusedWaitsForLateRefusals(t *testing.T) {
	t.Parallel()
	var nodes []*backend
	for _, id := range []string{"n1", "n2"} {
		srv, err := echo.New(echo.Config{ID: id, Bus: downBus{delay: 300 * time.Millisecond}})
		require.NoError(t, err)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { _ = srv.Close() })
		nodes = append(nodes, &backend{srv: srv, addr: ln.Addr().String()})
	}
	_, url := startAffinityProxy(t, harness.ModeNone, "", nodes)
	f := openFanout(t, url, 6, harness.FanoutSpec{RoomSize: 3, Messages: 2})
	require.NoError(t, f.Publish(context.Background(), 1))
	require.Positive(t, f.Unrefused(1), "the nodes answered before Publish returned")
	require.Zero(t, f.WaitRefused(context.Background(), 1, 10*time.Second))
	for _, c := range f.Result().Clients {
		require.True(t, c.Refused[0], c.Client.Name)
		require.False(t, c.Refused[1], c.Client.Name)
	}
	require.Equal(t, 6, f.Unrefused(2), "message 2 was not published")
}
