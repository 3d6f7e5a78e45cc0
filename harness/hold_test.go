package harness_test

import (
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/harness"
)

func TestOpenHoldsPingsAndNoticesGoingAway(t *testing.T) {
	t.Parallel()
	backends := startBackends(t, "ws1", "ws2", "ws3")
	proxy, url := startAffinityProxy(t, harness.ModeHeader, "X-Session-Id", backends)
	const clients = 30
	h, err := harness.New(harness.Config{
		URL: url, Mode: harness.ModeHeader, Clients: clients, Messages: 1,
		BackendHeader: proxyServerHeader, CheckInterval: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := h.Open(ctx)
	require.NoError(t, err)
	defer s.Close()

	opened := s.Opened()
	require.Zero(t, opened.HandshakeErrors+opened.MessageErrors, opened.ErrorSamples)
	require.Equal(t, clients, s.Open())
	before := s.Backends()
	require.Len(t, before, 3)
	require.Equal(t, opened.Backends, before)
	for _, b := range backends {
		require.Equal(t, before[b.srv.ID()], b.srv.Stats().Open, b.srv.ID())
	}

	ping, err := s.Ping(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(clients), ping.Echoed)
	require.Equal(t, before, ping.Backends)
	require.Zero(t, ping.MessageErrors)

	// ws1 goes away: its clients see code 1001 and answer, so Shutdown
	// completes without dropping anyone.
	require.NoError(t, backends[0].srv.Shutdown(ctx))
	require.Eventually(t, func() bool { return len(s.Closures()) == before["ws1"] }, 10*time.Second, 10*time.Millisecond)
	for _, c := range s.Closures() {
		require.Equal(t, "ws1", c.Backend)
		require.Equal(t, websocket.CloseGoingAway, c.Code)
		require.Positive(t, c.After)
	}
	require.Equal(t, clients-before["ws1"], s.Open())

	// Its clients come back elsewhere; the others stay where they were.
	onBefore := map[string]string{}
	for _, c := range s.Conns() {
		onBefore[c.Client.Name] = c.Backend
	}
	proxy.setDown(0)
	re, err := s.Redial(ctx)
	require.NoError(t, err)
	require.Len(t, re.Clients, before["ws1"])
	require.Zero(t, re.HandshakeErrors, re.ErrorSamples)
	require.Equal(t, clients, s.Open())
	require.NotContains(t, s.Backends(), "ws1")
	for _, c := range s.Conns() {
		if onBefore[c.Client.Name] != "ws1" {
			require.Equal(t, onBefore[c.Client.Name], c.Backend, c.Client.Name)
		}
	}

	require.NoError(t, s.Close())
	for _, b := range backends[1:] {
		require.Eventually(t, func() bool { return b.srv.Stats().Open == 0 }, 5*time.Second, 10*time.Millisecond)
	}
	require.Zero(t, s.Open())
}

func TestCheckNoticesAnAbruptClose(t *testing.T) {
	t.Parallel()
	backends := startBackends(t, "ws1")
	h, err := harness.New(harness.Config{
		URL: "ws://" + backends[0].addr + "/", Mode: harness.ModeSource, Clients: 5,
		CheckInterval: time.Hour, // only explicit checks
	})
	require.NoError(t, err)
	s, err := h.Open(context.Background())
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, 5, s.Check(), "idle connections stay open")
	require.Equal(t, 5, s.Backends()["ws1"], "the handshake header names the backend without messages")

	require.Eventually(t, func() bool { return backends[0].srv.Stats().Open == 5 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, backends[0].srv.Close())
	require.Eventually(t, func() bool { return s.Check() == 0 }, 5*time.Second, 10*time.Millisecond)
	closures := s.Closures()
	require.Len(t, closures, 5)
	for _, c := range closures {
		require.Zero(t, c.Code, "no close frame from a crashed backend: %+v", c)
		require.NotEmpty(t, c.Err)
		require.True(t, c.Client.Source.IsValid())
	}

	// Nothing to ping; redialing a dead backend records handshake errors.
	ping, err := s.Ping(context.Background())
	require.NoError(t, err)
	require.Empty(t, ping.Clients)
	re, err := s.Redial(context.Background())
	require.NoError(t, err)
	require.Equal(t, 5, re.HandshakeErrors)
}
