package netns

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/wslb/wslb/driver"
)

// getFrom asks backend addr for / from host h, within limit.
func getFrom(h *host, addr string, limit time.Duration) (time.Duration, error) {
	client := http.Client{Timeout: limit, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			return h.dial(ctx, &net.Dialer{}, network, a)
		}}}
	start := time.Now()
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return time.Since(start), nil
}

// Each fault does to the backend's link what it says, only while it
// lasts, and only where it says: a partition cuts the proxy's host off,
// not the clients'.
func TestFaults(t *testing.T) {
	if err := Check(driver.Needs{}); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx := context.Background()
	de, err := Open(ctx, driver.Options{})
	require.NoError(t, err)
	e := de.(*Env)
	t.Cleanup(func() { e.Close() })
	bs, err := e.StartBackends(ctx, driver.BackendSpec{IDs: []string{"ws1", "ws2"}, Echo: true})
	require.NoError(t, err)
	ws1, ws2 := bs.Addr("ws1"), bs.Addr("ws2")
	client := e.clients.hosts[1]
	ok := func(h *host, addr string) {
		t.Helper()
		_, err := getFrom(h, addr, 3*time.Second)
		require.NoError(t, err, "%s from %s", addr, h.name)
	}
	fails := func(h *host, addr string) {
		t.Helper()
		_, err := getFrom(h, addr, 700*time.Millisecond)
		require.Error(t, err, "%s from %s", addr, h.name)
	}
	apply := func(spec string) driver.Undo {
		t.Helper()
		f, err := driver.ParseFault(spec)
		require.NoError(t, err)
		undo, err := e.Fault(ctx, f)
		require.NoError(t, err, spec)
		return undo
	}

	undo := apply("loss:ws1:100%")
	fails(client, ws1)
	ok(client, ws2)
	require.NoError(t, undo(ctx))
	ok(client, ws1)

	// 1% loss (the comparison's byte order right) lets nearly all through.
	undo = apply("loss:ws1:1%")
	for range 5 {
		ok(client, ws1)
	}
	require.NoError(t, undo(ctx))

	undo = apply("partition:ws1")
	fails(e.proxy, ws1)
	ok(client, ws1)
	ok(e.proxy, ws2)
	require.NoError(t, undo(ctx))
	ok(e.proxy, ws1)

	undo = apply("down:ws2")
	fails(client, ws2)
	require.NoError(t, undo(ctx))
	require.Eventually(t, func() bool { _, err := getFrom(client, ws2, time.Second); return err == nil }, 5*time.Second, 50*time.Millisecond)

	undo = apply("pause:ws2")
	fails(client, ws2)
	require.NoError(t, undo(ctx))
	ok(client, ws2)

	s, err := e.backends.get("ws1")
	require.NoError(t, err)
	qdiscs := func() []string {
		var kinds []string
		_ = s.host.netlink(func(nl *netlink.Handle) error {
			l, err := nl.LinkByName("eth0")
			require.NoError(t, err)
			qs, err := nl.QdiscList(l)
			for _, q := range qs {
				kinds = append(kinds, q.Type())
			}
			return err
		})
		return kinds
	}
	undo = apply("rate:ws1:1mbit")
	require.Contains(t, qdiscs(), "tbf")
	ok(client, ws1)
	require.NoError(t, undo(ctx))
	require.NotContains(t, qdiscs(), "tbf")

	// Delay: the proxy's new connections take the relay, a client's not.
	base, err := getFrom(e.proxy, ws1, 3*time.Second)
	require.NoError(t, err)
	undo = apply("delay:ws1:150ms")
	took, err := getFrom(e.proxy, ws1, 5*time.Second)
	require.NoError(t, err)
	require.Greater(t, took, 300*time.Millisecond, "request and response each held 150ms (direct: %s)", base)
	direct, err := getFrom(client, ws1, 3*time.Second)
	require.NoError(t, err)
	require.Less(t, direct, took)
	require.NoError(t, undo(ctx))
	after, err := getFrom(e.proxy, ws1, 3*time.Second)
	require.NoError(t, err)
	require.Less(t, after, took, "direct again")
}
