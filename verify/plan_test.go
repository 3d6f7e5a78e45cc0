package verify

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/topology"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		in   string
		want Key
		err  string
	}{
		{in: "source", want: Key{Mode: topology.AffinitySource}},
		{in: "none", want: Key{Mode: topology.AffinityNone}},
		{in: "cookie:SERVERID", want: Key{Mode: topology.AffinityCookie, Name: "SERVERID"}},
		{in: "header:X-Session-Id", want: Key{Mode: topology.AffinityHeader, Name: "X-Session-Id"}},
		{in: "query:sid", want: Key{Mode: topology.AffinityQuery, Name: "sid"}},
		{in: "source:x", err: "source takes no name"},
		{in: "cookie", err: "want cookie:NAME"},
		{in: "cookie:a;b", err: "want cookie:NAME"},
		{in: "header:X\r\nInjected: 1", err: "want header:NAME"},
		{in: "query:", err: "want query:NAME"},
		{in: "ip_hash", err: "want source, none"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			k, err := ParseKey(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, k)
			require.Equal(t, tc.in, k.String())
		})
	}
}

func TestNormalize(t *testing.T) {
	o, err := Options{Reconnects: 3}.Normalize()
	require.NoError(t, err)
	require.Equal(t, DefaultClients, o.Clients)
	require.Equal(t, DefaultMessages, o.Messages)
	require.Equal(t, DefaultScenarios, o.Scenarios)
	require.Equal(t, DefaultTimeout, o.Timeout)
	require.Len(t, o.Proxies, 2)

	// --idle adds the idle scenario to the defaults and to a given list.
	o, err = Options{Reconnects: 1, Idle: time.Second}.Normalize()
	require.NoError(t, err)
	require.Equal(t, append(append([]string{}, DefaultScenarios...), ScenarioIdle), o.Scenarios)
	o, err = Options{Reconnects: 1, Idle: time.Second, Scenarios: []string{ScenarioReload}}.Normalize()
	require.NoError(t, err)
	require.Equal(t, []string{ScenarioReload, ScenarioIdle}, o.Scenarios)

	// Every problem is listed at once.
	_, err = Options{Clients: -1, Messages: -2, Scenarios: []string{"x", ScenarioIdle, ScenarioStickiness}, MinStickiness: 2}.Normalize()
	require.ErrorContains(t, err, "clients must be")
	require.ErrorContains(t, err, "messages must be")
	require.ErrorContains(t, err, `unknown scenario "x"`)
	require.ErrorContains(t, err, "needs --idle")
	require.ErrorContains(t, err, "min-stickiness")
	require.ErrorContains(t, err, "stickiness needs at least one reconnect")
}

func testTopology() *topology.Topology {
	ws := &topology.Pool{
		Name: "ws", WebSocket: true,
		Affinity: topology.Affinity{Mode: topology.AffinityCookie, Cookie: "SRV"},
		Servers: []*topology.Server{
			{Name: "a", Address: topology.Address{Host: "10.0.0.1", Port: 80}, Weight: 1},
			{Name: "b", Address: topology.Address{Host: "10.0.0.2", Port: 80}, Weight: 2},
			{Name: "spare", Address: topology.Address{Host: "10.0.0.9", Port: 80}, Weight: 1, Backup: true},
		},
	}
	web := &topology.Pool{
		Name: "web",
		Servers: []*topology.Server{
			{Name: "a", Address: topology.Address{Host: "10.0.1.1", Port: 80}, Weight: 1},
		},
	}
	return &topology.Topology{
		Name:      "t",
		Filename:  "t.hcl",
		Listeners: []*topology.Listener{{Name: "pub", Address: topology.Address{Host: "0.0.0.0", Port: 443}, TLS: &topology.TLS{Certificate: "/etc/cert.pem"}}},
		Routes: []*topology.Route{
			{Name: "web", PathPrefix: "/", Pool: "web"},
			{Name: "ws", PathPrefix: "/live", Host: "app.example.com", WebSocketOnly: true, Pool: "ws"},
		},
		Pools:    []*topology.Pool{ws, web},
		Security: topology.Security{AllowedOrigins: []string{"https://app.example.com"}},
	}
}

func TestLocalTopologyLeavesTheOriginalAlone(t *testing.T) {
	topo := testTopology()
	ids := backendIDs(topo)
	require.Equal(t, "ws.a", ids[topo.Pools[0].Servers[0]], "a repeats across pools")
	require.Equal(t, "b", ids[topo.Pools[0].Servers[1]])
	require.Equal(t, "web.a", ids[topo.Pools[1].Servers[0]])

	port := 20000
	local := localTopology(topo, map[string]netip.AddrPort{"pub": netip.MustParseAddrPort("127.0.0.1:18080")}, func(s *topology.Server) topology.Address {
		port++
		return topology.Address{Host: "127.0.0.1", Port: port}
	})
	require.Equal(t, topology.Address{Host: "127.0.0.1", Port: 18080}, local.Listeners[0].Address)
	require.Nil(t, local.Listeners[0].TLS)
	require.Equal(t, "127.0.0.1", local.Pools[0].Servers[2].Address.Host)
	require.True(t, local.Pools[0].Servers[2].Backup)

	// The original still points at production.
	require.Equal(t, topology.Address{Host: "0.0.0.0", Port: 443}, topo.Listeners[0].Address)
	require.NotNil(t, topo.Listeners[0].TLS)
	require.Equal(t, "10.0.0.1", topo.Pools[0].Servers[0].Address.Host)
}

func TestPlanPool(t *testing.T) {
	topo := testTopology()
	ids := backendIDs(topo)
	plan, err := planPool(topo, topo.Pools[0], ids, Options{})
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:443", plan.Listener)
	require.Equal(t, "/live", plan.Path, "the WebSocket route, not the catch-all")
	require.Equal(t, "app.example.com", plan.Host)
	require.Equal(t, "https://app.example.com", plan.Origin)
	require.Equal(t, Key{Mode: topology.AffinityCookie, Name: "SRV"}, plan.Key)
	require.True(t, plan.Strict, "cookies pin exactly")
	require.Equal(t, []BackendInfo{{ID: "ws.a", Weight: 1}, {ID: "b", Weight: 2}, {ID: "spare", Weight: 1, Backup: true}}, plan.Servers)

	override := Key{Mode: topology.AffinityHeader, Name: "X-User"}
	plan, err = planPool(topo, topo.Pools[0], ids, Options{Key: &override, Origin: "https://other.example.com"})
	require.NoError(t, err)
	require.Equal(t, override, plan.Key)
	require.Equal(t, "https://other.example.com", plan.Origin)

	topo.Routes = topo.Routes[:1]
	_, err = planPool(topo, topo.Pools[0], ids, Options{})
	require.ErrorContains(t, err, `no route sends requests to pool "ws"`)
}

func TestSelectPools(t *testing.T) {
	topo := testTopology()
	pools, err := selectPools(topo, nil)
	require.NoError(t, err)
	require.Len(t, pools, 1)
	require.Equal(t, "ws", pools[0].Name)

	pools, err = selectPools(topo, []string{"web", "ws"})
	require.NoError(t, err)
	require.Equal(t, "web", pools[0].Name)

	_, err = selectPools(topo, []string{"chat"})
	var inv *InputError
	require.ErrorAs(t, err, &inv)
	require.ErrorContains(t, err, `no pool "chat" in t.hcl (pools: ws, web)`)

	topo.Pools[0].WebSocket = false
	_, err = selectPools(topo, nil)
	require.ErrorContains(t, err, "no WebSocket pool")
}

func TestVictimAndSourceOfTruth(t *testing.T) {
	servers := []BackendInfo{{ID: "a", Weight: 1}, {ID: "b", Weight: 1}, {ID: "spare", Weight: 1, Backup: true}}
	before := map[string]string{"c1": "a", "c2": "b", "c3": "b", "c4": "spare", "c5": "spare", "c6": "spare"}
	require.Equal(t, "b", victim(before, servers), "the busiest primary, never a backup")
	require.Equal(t, "", victim(map[string]string{}, servers))

	base := []Trace{tr("c1", 0, "a", "a"), tr("c2", 0, "a", "b"), tr("c3", 1, "b")}
	require.Equal(t, map[string]string{"c1": "a"}, stuckTo(base))
}

func TestPortTaken(t *testing.T) {
	// As loopback.StartProxy wraps it, with the proxy's log after it.
	require.True(t, portTaken(fmt.Errorf("start haproxy: exited during startup (exit status 1): %w\n  [ALERT] (1) : Starting frontend fe: cannot bind socket [127.0.0.1:4000]", loopback.ErrAddrInUse)))
	// A bind in this process (a driver's own listener) says so too.
	require.True(t, portTaken(fmt.Errorf("start: %w", &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", syscall.EADDRINUSE)})))
	require.False(t, portTaken(errors.New("start haproxy: Cannot raise FD limit to 20045")))
	// The text alone is not enough: StartProxy decides from the log.
	require.False(t, portTaken(errors.New("start nginx: not ready: Address already in use")))
}
