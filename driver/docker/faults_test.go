package docker

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/netfault"
	"github.com/wslb/wslb/internal/testutil"
)

// getFrom asks backend addr for / from inside ns (this host's own when
// ns is the zero NS), within limit.
func getFrom(ns netfault.NS, addr string, limit time.Duration) (time.Duration, error) {
	dial := (&net.Dialer{}).DialContext
	if ns.Name != "" {
		dial = func(ctx context.Context, network, a string) (net.Conn, error) {
			return netfault.Dial(ctx, ns, &net.Dialer{}, network, a)
		}
	}
	client := http.Client{Timeout: limit, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil, DialContext: dial}}
	start := time.Now()
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return time.Since(start), nil
}

// Each namespace fault does to the backend's link what it says, only
// while it lasts, and only where it says: a partition cuts the proxy's
// address off, not this host; rate shapes both ends of the link; delay
// holds the proxy's new connections, not others'.
func TestFaultsInTheBackendsNamespace(t *testing.T) {
	testutil.NeedDocker(t)
	ctx, e := openOnEngine(t)
	bs, err := e.StartBackends(ctx, driver.BackendSpec{IDs: []string{"b1", "b2"}, Echo: true})
	require.NoError(t, err)
	b1, b2 := bs.Addr("b1"), bs.Addr("b2")
	// A stand-in for the proxy: a node on the proxy's address.
	px, err := e.create(ctx, node{name: e.net.name + "-proxy", image: e.node, role: "proxy", addr: e.net.proxy,
		cmd: []string{"echo", "--id", "proxy", "--listen", "127.0.0.1:1"}})
	require.NoError(t, err)
	require.NoError(t, e.start(ctx, px, "proxy"))
	proxy, err := e.containerNS(ctx, px, "proxy")
	require.NoError(t, err)
	defer proxy.Handle.Close()
	var here netfault.NS

	ok := func(ns netfault.NS, addr string) {
		t.Helper()
		_, err := getFrom(ns, addr, 3*time.Second)
		require.NoError(t, err, "%s from %q", addr, ns.Name)
	}
	fails := func(ns netfault.NS, addr string) {
		t.Helper()
		_, err := getFrom(ns, addr, 700*time.Millisecond)
		require.Error(t, err, "%s from %q", addr, ns.Name)
	}
	apply := func(spec string) driver.Undo {
		t.Helper()
		f, err := driver.ParseFault(spec)
		require.NoError(t, err)
		require.NoError(t, Check(driver.Needs{Faults: []driver.Fault{f}}))
		undo, err := e.Fault(ctx, f)
		require.NoError(t, err, spec)
		return undo
	}

	undo := apply("loss:b1:100%")
	fails(here, b1)
	ok(here, b2)
	require.NoError(t, undo(ctx))
	ok(here, b1)
	// 1% loss (the comparison's byte order right) lets nearly all through.
	undo = apply("loss:b1:1%")
	for range 5 {
		ok(here, b1)
	}
	require.NoError(t, undo(ctx))

	undo = apply("partition:b1")
	fails(proxy, b1)
	ok(here, b1)
	ok(proxy, b2)
	require.NoError(t, undo(ctx))
	ok(proxy, b1)

	be, err := e.backends.lookup("b1")
	require.NoError(t, err)
	ns, err := e.containerNS(ctx, be.host, "b1-host")
	require.NoError(t, err)
	defer ns.Handle.Close()
	ends, err := bothEnds(ns, e.net.id)
	require.NoError(t, err)
	require.Len(t, ends, 2)
	qdiscs := func(l netfault.Link) []string {
		nl, err := netlink.NewHandleAt(l.NS.Handle)
		require.NoError(t, err)
		defer nl.Close()
		link, err := nl.LinkByName(l.Name)
		require.NoError(t, err)
		qs, err := nl.QdiscList(link)
		require.NoError(t, err)
		var kinds []string
		for _, q := range qs {
			kinds = append(kinds, q.Type())
		}
		return kinds
	}
	undo = apply("rate:b1:1mbit")
	for _, l := range ends {
		require.Contains(t, qdiscs(l), "tbf", "on %s in %s", l.Name, l.NS.Name)
	}
	ok(proxy, b1)
	require.NoError(t, undo(ctx))
	for _, l := range ends {
		require.NotContains(t, qdiscs(l), "tbf", "on %s in %s", l.Name, l.NS.Name)
	}

	// Delay: the proxy's new connections take the relay, this host's not.
	base, err := getFrom(proxy, b1, 3*time.Second)
	require.NoError(t, err)
	undo = apply("delay:b1:150ms")
	took, err := getFrom(proxy, b1, 5*time.Second)
	require.NoError(t, err)
	require.Greater(t, took, 300*time.Millisecond, "request and response each held 150ms (direct: %s)", base)
	direct, err := getFrom(here, b1, 3*time.Second)
	require.NoError(t, err)
	require.Less(t, direct, took)
	// Close lifts a fault still on: the relay's listener goes with it.
	require.NoError(t, e.Close())
	_ = undo
}
