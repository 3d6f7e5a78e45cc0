package docker

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/testutil"
)

func TestProxyImageDefaultsToOfficialMajorMinor(t *testing.T) {
	require.Equal(t, "haproxy:2.6", ProxyImage("", "haproxy", "2.6.12"))
	require.Equal(t, "nginx:1.22", ProxyImage("", "nginx", "1.22.1"))
	require.Equal(t, "wslb-proxy:trixie", ProxyImage("wslb-proxy:trixie", "nginx", "1.26.3"))
}

// Neighbouring clients differ in their /24 (nginx ip_hash keys on it),
// every address is distinct, in the clients' range and outside the run's
// network; there are as many as loopback has.
func TestClientSourcesSpreadOverSlash24s(t *testing.T) {
	subnet := netip.MustParsePrefix("198.18.16.0/20")
	c := newClients(&Env{net: &netPlan{subnet: subnet}})
	require.GreaterOrEqual(t, c.MaxSources(), harness.MaxSourceClients)
	seen := map[netip.Addr]bool{}
	var prev netip.Addr
	for i := range maxSources {
		a, err := c.Source(i)
		require.NoError(t, err)
		require.True(t, clientRange.Contains(a), "%s outside %s", a, clientRange)
		require.False(t, subnet.Contains(a), "%s in the run's network", a)
		require.False(t, c.Local(a))
		require.False(t, seen[a], "%s twice", a)
		seen[a] = true
		if i > 0 {
			p, q := prev.As4(), a.As4()
			require.NotEqual(t, p[:3], q[:3], "clients %d and %d share a /24", i-1, i)
		}
		prev = a
	}
	_, err := c.Source(maxSources)
	require.Error(t, err)
	require.Len(t, c.pending, maxSources, "every handed-out address is added before the next dial")
}

func TestBuildErrorReadsTheEnginesMessage(t *testing.T) {
	ok := `{"stream":"Step 1/3 : FROM scratch\n"}{"stream":"Successfully built 1234\n"}`
	require.NoError(t, buildError(strings.NewReader(ok)))
	bad := `{"stream":"Step 2/3 : COPY wslb /wslb\n"}{"errorDetail":{"message":"no space"},"error":"no space left on device"}`
	err := buildError(strings.NewReader(bad))
	require.ErrorContains(t, err, "no space left on device")
	require.ErrorContains(t, err, "COPY wslb")
}

func TestNodeImageRefusesADynamicBinary(t *testing.T) {
	// The test binary is whatever this machine links by default; a
	// known dynamic executable settles it.
	sh, err := exec.LookPath("sh")
	require.NoError(t, err)
	err = checkStatic(sh)
	require.ErrorContains(t, err, "CGO_ENABLED=0")
}

// openOnEngine opens a run on the engine with a node image of this tree's
// wslb, closed when the test ends, and a context bounding the test.
func openOnEngine(t *testing.T) (context.Context, *Env) {
	t.Helper()
	t.Setenv(NodeBinaryEnv, staticWSLB(t))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	env, err := Open(ctx, driver.Options{})
	require.NoError(t, err)
	e := env.(*Env)
	t.Cleanup(func() { _ = e.Close() })
	return ctx, e
}

// staticWSLB builds wslb without cgo for the node image.
func staticWSLB(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wslb")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/wslb/wslb/cmd/wslb")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// Backend faults on a real engine: a paused backend holds connections
// without answering, a resumed one answers again, and a stopped one
// refuses at once (its host keeps the address), until it starts again on
// the same address. Close removes every container and the network.
func TestBackendsPauseStopStartOnTheEngine(t *testing.T) {
	testutil.NeedDocker(t)
	ctx, e := openOnEngine(t)
	bs, err := e.StartBackends(ctx, driver.BackendSpec{IDs: []string{"b1", "b2"}, Echo: true})
	require.NoError(t, err)
	addr := bs.Addr("b1")
	require.True(t, e.net.subnet.Contains(netip.MustParseAddrPort(addr).Addr()))
	id, ok := bs.IDByAddr(addr)
	require.True(t, ok)
	require.Equal(t, "b1", id)

	get := func(timeout time.Duration) (string, error) {
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
			return "", err
		}
		var buf bytes.Buffer
		_, err = buf.ReadFrom(c)
		return buf.String(), err
	}
	body, err := get(5 * time.Second)
	require.NoError(t, err)
	require.Contains(t, body, `"backend":"b1"`)

	// The echo containers report their connection counts, which only
	// grow across a stop and a start; a paused one gives its last.
	dialWS := func() {
		t.Helper()
		c, _, err := websocket.DefaultDialer.DialContext(ctx, "ws://"+addr+"/", nil)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		// An echo back: the server has counted the connection.
		require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("hi")))
		_, _, err = c.ReadMessage()
		require.NoError(t, err)
	}
	counter := bs.(driver.EchoCounter)
	dialWS()
	dialWS()
	require.Equal(t, map[string]driver.EchoStats{"b1": {Open: 2, Accepted: 2}, "b2": {}}, counter.EchoStats(ctx))

	require.NoError(t, bs.Pause(ctx, "b1"))
	require.False(t, bs.Running("b1"))
	require.Equal(t, driver.EchoStats{Open: 2, Accepted: 2}, counter.EchoStats(ctx)["b1"])
	_, err = get(time.Second)
	require.Error(t, err, "a paused backend answered")
	require.NoError(t, bs.Resume(ctx, "b1"))
	body, err = get(5 * time.Second)
	require.NoError(t, err)
	require.Contains(t, body, `"backend":"b1"`)

	require.NoError(t, bs.Stop(ctx, "b1"))
	// Refused, not a timeout: the host keeps the address.
	_, err = net.DialTimeout("tcp", addr, 5*time.Second)
	require.ErrorContains(t, err, "refused")
	require.Equal(t, driver.EchoStats{Open: 0, Accepted: 2}, counter.EchoStats(ctx)["b1"])
	require.NoError(t, bs.Start(ctx, "b1"))
	body, err = get(5 * time.Second)
	require.NoError(t, err)
	require.Contains(t, body, `"backend":"b1"`)
	dialWS()
	require.Equal(t, driver.EchoStats{Open: 1, Accepted: 3}, counter.EchoStats(ctx)["b1"])

	// Link down: the address stops answering (no refusal: nobody is
	// there), and comes back with the link.
	undo, err := e.Fault(ctx, driver.Fault{Kind: driver.FaultDown, Backend: "b1"})
	require.NoError(t, err)
	_, err = get(time.Second)
	require.Error(t, err, "a backend whose link is down answered")
	require.NoError(t, undo(ctx))
	body, err = get(5 * time.Second)
	require.NoError(t, err)
	require.Contains(t, body, `"backend":"b1"`)

	run := e.id
	require.NoError(t, e.Close())
	left, err := Cleanup(ctx)
	require.NoError(t, err)
	for _, what := range left {
		require.NotContains(t, what, run)
	}
}
