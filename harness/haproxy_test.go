package harness_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestSourceAffinityThroughHAProxy runs the harness through the real
// haproxy with `balance source`: distinct source addresses must spread
// clients over the servers, and every client must stay on its server.
func TestSourceAffinityThroughHAProxy(t *testing.T) {
	t.Parallel()
	bin := testutil.NeedProxy(t, proxybin.HAProxy).Path
	backends := startBackends(t, "ws1", "ws2", "ws3")
	port := freePort(t)
	var servers strings.Builder
	for _, b := range backends {
		fmt.Fprintf(&servers, "  server %s %s\n", b.srv.ID(), b.addr)
	}
	cfg := fmt.Sprintf(`global
  maxconn 1000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
frontend fe
  bind 127.0.0.1:%d
  default_backend be
backend be
  balance source
  http-response set-header X-Wslb-Server %%s
%s`, port, servers.String())
	dir := testutil.ScratchDir(t)
	path := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))

	var out bytes.Buffer
	cmd := exec.Command(bin, "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}, 10*time.Second, 20*time.Millisecond, "haproxy did not listen: %s", &out)

	const clients, reconnects = 60, 2
	h, err := harness.New(harness.Config{
		URL: "ws://" + addr + "/chat", Mode: harness.ModeSource,
		Clients: clients, Reconnects: reconnects, Messages: 2,
		BackendHeader: "X-Wslb-Server",
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := h.Run(ctx)
	require.NoError(t, err)
	require.Zero(t, res.HandshakeErrors+res.MessageErrors, res.ErrorSamples)
	require.Equal(t, res.Sent, res.Echoed)

	sticky, identified := res.Stickiness()
	require.Equal(t, clients, identified)
	require.Equal(t, clients, sticky, "unsticky: %v", res.Unsticky())
	require.Equal(t, []string{"ws1", "ws2", "ws3"}, res.BackendIDs(), "source addresses spread over every server")
	for _, c := range res.Clients {
		for _, conn := range c.Conns {
			require.Equal(t, conn.EnvelopeBackend, conn.HeaderBackend, "haproxy's server name and the envelope agree")
		}
	}
	// Every connection reached a backend through haproxy.
	served := 0
	for _, b := range backends {
		served += int(b.srv.Stats().Total)
	}
	require.Equal(t, clients*(reconnects+1), served)

	// Held connections: each client lands where it did before, and when a
	// backend shuts down its clients see code 1001 through haproxy.
	s, err := h.Open(ctx)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, clients, s.Open(), s.Opened().ErrorSamples)
	for i, c := range s.Conns() {
		require.Equal(t, res.Clients[i].First(), c.Backend, c.Client.String())
	}
	onWS1 := s.Backends()["ws1"]
	require.Positive(t, onWS1)
	require.NoError(t, backends[0].srv.Shutdown(ctx))
	require.Eventually(t, func() bool { return len(s.Closures()) == onWS1 }, 10*time.Second, 20*time.Millisecond)
	for _, c := range s.Closures() {
		require.Equal(t, "ws1", c.Backend)
		require.Equal(t, 1001, c.Code, c.Err)
	}
	require.Equal(t, clients-onWS1, s.Open())
}
