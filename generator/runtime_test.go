package generator

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

// End-to-end: the generated configs run under the real proxies, and cookie
// affinity works for WebSocket handshakes, including on NGINX without
// sticky, where the proxy sets the cookie itself.

const identity = "X-Wslb-Server"

// backend is a WebSocket echo server that names itself in X-Backend.
type backend struct {
	name string
	addr *net.TCPAddr
	srv  *http.Server
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	return serveBackend(t, name, func(w http.ResponseWriter, r *http.Request) {
		h := http.Header{"X-Backend": {name}}
		if !websocket.IsWebSocketUpgrade(r) {
			w.Header().Set("X-Backend", name)
			_, _ = w.Write([]byte(name))
			return
		}
		c, err := upgrader.Upgrade(w, r, h)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			mt, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	})
}

// upgrader accepts every Origin: the proxies under test do the checking.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveBackend serves handle, beside a /healthz that answers 200, on a
// free loopback port until the test ends.
func serveBackend(t *testing.T, name string, handle http.HandlerFunc) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/", handle)
	b := &backend{name: name, addr: ln.Addr().(*net.TCPAddr), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(func() { _ = b.srv.Close() })
	return b
}

func (b *backend) stop() { _ = b.srv.Close() }

// startProxy generates the runtime config of topo for kind and runs it.
func startProxy(t *testing.T, kind proxybin.Kind, topo *topology.Topology) *loopback.Proxy {
	t.Helper()
	return startProxyOn(t, testutil.NeedProxy(t, kind), topo)
}

// startProxyOn is startProxy with a given binary (another version).
func startProxyOn(t *testing.T, bin proxybin.Binary, topo *topology.Topology) *loopback.Proxy {
	t.Helper()
	kind := bin.Kind
	dir := testutil.ScratchDir(t)
	arts, err := Generate(topo, Options{Kinds: []proxybin.Kind{kind}, Runtime: &Runtime{Dir: dir}, IdentityHeader: identity})
	require.NoError(t, err)
	cfg := filepath.Join(dir, arts[0].Name)
	require.NoError(t, os.WriteFile(cfg, arts[0].Bytes, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	addr := "127.0.0.1:" + strconv.Itoa(topo.Listeners[0].Address.Port)
	px, err := loopback.StartProxy(ctx, loopback.ProxyOptions{Kind: kind, Binary: bin.Path, Config: cfg, Dir: dir, ReadyAddr: addr})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NotContains(t, px.LogTail(100), "[emerg]")
		_ = px.Close()
	})
	return px
}

func cookieTopology(port int, backends []*backend) *topology.Topology {
	t := baseTopology("runtime-cookie", topology.Affinity{Mode: topology.AffinityCookie, Cookie: "WSLB_SRV", Consistent: true})
	t.Listeners[0].Address = topology.Address{Host: "127.0.0.1", Port: port}
	t.Routes = []*topology.Route{{Name: "app", PathPrefix: "/", Pool: "app"}}
	p := t.Pools[0]
	p.Name = "app"
	p.Servers = nil
	for _, b := range backends {
		p.Servers = append(p.Servers, server(b.name, "127.0.0.1", b.addr.Port))
	}
	p.Health.Interval = 200 * time.Millisecond
	p.Health.Rise, p.Health.Fall = 1, 1
	t.Pools = t.Pools[:1]
	t.Limits.MaxConns = 100
	return t
}

// dial opens a WebSocket through the proxy with an optional cookie and
// returns the server that answered (as the backend says) and the response.
func dial(t *testing.T, addr, cookie string) (string, *http.Response) {
	t.Helper()
	h := http.Header{}
	if cookie != "" {
		h.Set("Cookie", "WSLB_SRV="+cookie)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("ws://"+addr+"/ws", h)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("ping")))
	_, msg, err := c.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, "ping", string(msg))
	return resp.Header.Get("X-Backend"), resp
}

// affinityCookie returns the WSLB_SRV value a response sets, or "".
func affinityCookie(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == "WSLB_SRV" {
			return c.Value
		}
	}
	return ""
}

func TestRuntimeCookieAffinity(t *testing.T) {
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		backends := []*backend{startBackend(t, "app1"), startBackend(t, "app2"), startBackend(t, "app3")}
		port, err := loopback.FreePort()
		require.NoError(t, err)
		spare := startBackend(t, "spare")
		topo := cookieTopology(port, append(backends, spare))
		topo.Pools[0].Servers[3].Backup = true
		startProxy(t, kind, topo)
		addr := "127.0.0.1:" + strconv.Itoa(port)

		// New clients are spread over the primaries only.
		for i := 0; i < 6; i++ {
			name, _ := dial(t, addr, "")
			require.NotEqual(t, "spare", name, "a backup server took a new client while the primaries are up")
		}

		// First handshake: the proxy picks a server and names it in
		// the cookie, on the 101 response itself.
		first, resp := dial(t, addr, "")
		require.NotEmpty(t, first)
		require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		require.Equal(t, first, affinityCookie(resp), "Set-Cookie on the handshake must name the server that answered")
		require.Equal(t, first, resp.Header.Get(identity))

		// With the cookie, every handshake returns to that server.
		for i := 0; i < 5; i++ {
			got, resp := dial(t, addr, first)
			require.Equal(t, first, got, "handshake %d with the cookie left its server", i)
			require.Empty(t, affinityCookie(resp), "a valid cookie must not be set again")
		}

		// Plain requests get the cookie too.
		res, err := http.Get("http://" + addr + "/page")
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, res.Header.Get("X-Backend"), affinityCookie(res))

		// The pinned server dies: the handshake fails over and the
		// cookie moves to the server that answered.
		for _, b := range backends {
			if b.name == first {
				b.stop()
			}
		}
		moved, resp := dial(t, addr, first)
		require.NotEqual(t, first, moved)
		require.Equal(t, moved, affinityCookie(resp), "after failover the cookie must name the new server")
		again, _ := dial(t, addr, moved)
		require.Equal(t, moved, again)

		// Every primary down: the backup server takes the client and
		// the cookie follows.
		for _, b := range backends {
			b.stop()
		}
		got := eventually(t, func() string {
			name, resp := dial(t, addr, moved)
			if name == "spare" && affinityCookie(resp) == "spare" {
				return name
			}
			return ""
		})
		require.Equal(t, "spare", got)
	})
}

// eventually polls f until it returns a non-empty string, for up to 10 s:
// HAProxy needs a failed health check before it stops choosing a server.
func eventually(t *testing.T, f func() string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := f(); got != "" || time.Now().After(deadline) {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get requests path through the proxy and returns the backend that served.
func get(t *testing.T, addr, path string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + path)
	require.NoError(t, err)
	res.Body.Close()
	return res.Header.Get("X-Backend")
}

func dialHeader(t *testing.T, addr, path string, h http.Header) (string, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("ws://"+addr+path, h)
	if err != nil {
		return "", err
	}
	defer c.Close()
	return resp.Header.Get("X-Backend"), nil
}

// TestRuntimeRoutesAndBackup checks WebSocket-only routes (NGINX sends the
// handshakes to a named location) and backup servers of a hashed pool
// (NGINX falls back to a separate group) on the real proxies.
func TestRuntimeRoutesAndBackup(t *testing.T) {
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		primary, bk, web := startBackend(t, "primary"), startBackend(t, "bk"), startBackend(t, "web1")
		port, err := loopback.FreePort()
		require.NoError(t, err)
		topo := baseTopology("runtime-routes", topology.Affinity{Mode: topology.AffinityHeader, Header: "X-User", Consistent: true})
		topo.Listeners[0].Address = topology.Address{Host: "127.0.0.1", Port: port}
		rt, wp := topo.Pools[0], topo.Pools[1]
		rt.Servers = []*topology.Server{server("primary", "127.0.0.1", primary.addr.Port), server("bk", "127.0.0.1", bk.addr.Port)}
		rt.Servers[1].Backup = true
		wp.Servers = []*topology.Server{server("web1", "127.0.0.1", web.addr.Port)}
		for _, p := range topo.Pools {
			p.Health.Interval = 200 * time.Millisecond
			p.Health.Rise, p.Health.Fall = 1, 1
		}
		startProxy(t, kind, topo)
		addr := "127.0.0.1:" + strconv.Itoa(port)

		require.Equal(t, "web1", get(t, addr, "/ws"), "a plain request on the WebSocket path goes to the web pool")
		require.Equal(t, "web1", get(t, addr, "/"))
		h := http.Header{"X-User": {"u1"}}
		for i := 0; i < 3; i++ {
			got, err := dialHeader(t, addr, "/ws", h)
			require.NoError(t, err)
			require.Equal(t, "primary", got)
		}
		got, err := dialHeader(t, addr, "/", h)
		require.NoError(t, err)
		require.Equal(t, "web1", got, "the catch-all route sends handshakes to its own pool")

		primary.stop()
		got = eventually(t, func() string {
			name, _ := dialHeader(t, addr, "/ws", h)
			return name
		})
		require.Equal(t, "bk", got, "with the primary down the backup server serves")
	})
}

// TestRuntimeClientIPHeader checks source affinity behind a trusted proxy:
// the address in X-Forwarded-For decides the server only when the peer is
// trusted.
func TestRuntimeClientIPHeader(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real proxies")
	}
	for _, kind := range proxybin.Kinds {
		for _, trusted := range []bool{true, false} {
			name := string(kind) + "/untrusted"
			if trusted {
				name = string(kind) + "/trusted"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				testutil.NeedProxy(t, kind)
				backends := []*backend{startBackend(t, "s1"), startBackend(t, "s2"), startBackend(t, "s3")}
				port, err := loopback.FreePort()
				require.NoError(t, err)
				nets := []string{"10.0.0.0/8"}
				if trusted {
					nets = []string{"127.0.0.0/8"}
				}
				topo := baseTopology("runtime-xff", topology.Affinity{Mode: topology.AffinitySource, Consistent: true, ClientIPHeader: "X-Forwarded-For", TrustedProxies: nets})
				topo.Listeners[0].Address = topology.Address{Host: "127.0.0.1", Port: port}
				topo.Routes = []*topology.Route{{Name: "all", PathPrefix: "/", Pool: "realtime"}}
				topo.Pools = topo.Pools[:1]
				topo.Pools[0].Servers = nil
				for _, b := range backends {
					topo.Pools[0].Servers = append(topo.Pools[0].Servers, server(b.name, "127.0.0.1", b.addr.Port))
				}
				startProxy(t, kind, topo)
				addr := "127.0.0.1:" + strconv.Itoa(port)

				seen := map[string]bool{}
				for i := 0; i < 24; i++ {
					client := "198.51.100." + strconv.Itoa(i+1)
					h := http.Header{"X-Forwarded-For": {"203.0.113.9, " + client}}
					first, err := dialHeader(t, addr, "/ws", h)
					require.NoError(t, err)
					again, err := dialHeader(t, addr, "/ws", h)
					require.NoError(t, err)
					require.Equal(t, first, again, "client %s moved", client)
					seen[first] = true
				}
				if trusted {
					require.Greater(t, len(seen), 1, "clients behind a trusted proxy must spread by their own address")
				} else {
					require.Len(t, seen, 1, "an untrusted peer's header must not choose the server")
				}
			})
		}
	}
}
