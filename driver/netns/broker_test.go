package netns_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/netns"
	"github.com/wslb/wslb/internal/brokerproc"
)

// A broker runs on a service host of its own; the echo backends, each in
// its host, join it across the bridge and report when they lose it and
// when they are back, after a restart of its process.
func TestEchoBackendsJoinABrokerOnAServiceHost(t *testing.T) {
	needNetns(t)
	if _, err := brokerproc.FindRedis(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	ctx := context.Background()
	env := open(t)
	sh, err := env.(driver.ServiceHoster).ServiceHost("redis")
	require.NoError(t, err)
	require.True(t, env.Clients().Local(sh.Addr), "%s is in the run's network", sh.Addr)
	srv, err := brokerproc.StartAt(ctx, broker.Redis, t.TempDir(), brokerproc.Place{Host: sh.Addr, NetNS: sh.NetNS, Dial: sh.Dial, Listen: sh.Listen})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	require.Contains(t, srv.URL(), sh.Addr.String())

	var mu sync.Mutex
	var events []driver.BrokerEvent
	b, err := env.StartBackends(ctx, driver.BackendSpec{IDs: []string{"ws1", "ws2"}, Echo: true, Broker: &driver.EchoBroker{
		Kind: string(broker.Redis), URL: srv.URL(), Channel: "wslb",
		OnState: func(ev driver.BrokerEvent) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev)
		},
	}})
	require.NoError(t, err)
	require.True(t, b.Running("ws1") && b.Running("ws2"), "both joined the broker and listen")

	down := time.Now()
	require.NoError(t, brokerproc.Restart(ctx, srv))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		last := map[string]driver.BrokerEvent{}
		lost := map[string]bool{}
		for _, ev := range events {
			last[ev.Node] = ev
			lost[ev.Node] = lost[ev.Node] || !ev.Up
		}
		return len(last) == 2 && lost["ws1"] && lost["ws2"] && last["ws1"].Up && last["ws2"].Up
	}, 30*time.Second, 20*time.Millisecond, "every backend lost the broker and was back: %v", &events)
	mu.Lock()
	for _, ev := range events {
		require.False(t, ev.At.Before(down.Add(-time.Second)), "%v is stamped when it happened", ev)
	}
	n := len(events)
	mu.Unlock()

	// A backend that stops leaves the broker: that is no loss reported.
	require.NoError(t, b.Stop(ctx, "ws1"))
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	require.Len(t, events, n, "stopping reports nothing: %v", events)
	mu.Unlock()
}

// The user's servers and a broker wslb starts run here; a broker already
// running on wslb's host is out of the run's hosts' reach.
func TestCheckRefusesABrokerOnThisHostOnly(t *testing.T) {
	needNetns(t)
	require.NoError(t, netns.Check(driver.Needs{ForeignServers: true, Broker: true}))
	err := netns.Check(driver.Needs{ExternalBroker: true})
	require.ErrorContains(t, err, "cannot reach a broker running on this host")
}
