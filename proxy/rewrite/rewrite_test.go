package rewrite_test

import (
	"context"
	"fmt"
	_ "github.com/wslb/wslb/proxy/all"
	"github.com/wslb/wslb/proxy/rewrite"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

type wantServer struct {
	id     string
	weight int
	backup bool
}

var loadCases = []struct {
	file     string
	kind     proxybin.Kind
	pool     string
	affinity rewrite.Affinity
	path     string
	servers  []wantServer // the WebSocket pool
	all      int          // servers in the whole config
	notes    []string     // substrings expected among the render notes
}{
	{
		file: "haproxy-source.cfg", kind: proxybin.HAProxy, pool: "sockets",
		affinity: rewrite.Affinity{Mode: topology.AffinitySource, Consistent: true}, path: "/",
		servers: []wantServer{{"ws1", 2, false}, {"ws2", 1, false}, {"ws3", 1, true}}, all: 4,
		notes: []string{"use_backend on the Upgrade header", "TLS removed", "dropped global `chroot`", "dropped redirects to https", "dropped resolvers sections", "dropped `errorfile`", "dropped `http-check expect`"},
	},
	{
		file: "haproxy-cookie.cfg", kind: proxybin.HAProxy, pool: "chat",
		affinity: rewrite.Affinity{Mode: topology.AffinityCookie, Key: "SRVID"}, path: "/",
		servers: []wantServer{{"app1", 1, false}, {"app2", 1, false}, {"app3", 1, false}}, all: 3,
		notes: []string{"affinity: cookie SRVID", "dropped extra `bind` lines", "dropped global `daemon`"},
	},
	{
		file: "haproxy-roundrobin.cfg", kind: proxybin.HAProxy, pool: "live",
		affinity: rewrite.Affinity{Mode: topology.AffinityNone}, path: "/ws/",
		servers: []wantServer{{"live.a", 1, false}, {"b", 1, false}}, all: 3,
		notes: []string{"affinity: none (balance leastconn)"},
	},
	{
		file: "haproxy-cookie-rewrite.cfg", kind: proxybin.HAProxy, pool: "app",
		affinity: rewrite.Affinity{Mode: topology.AffinityCookie, Key: "JSESSIONID"}, path: "/ws",
		servers: []wantServer{{"s1", 1, false}, {"s2", 1, false}}, all: 2,
		notes: []string{"prefix mode becomes insert", "use_backend on a WebSocket path"},
	},
	{
		file: "haproxy-hash-cookie.cfg", kind: proxybin.HAProxy, pool: "realtime",
		affinity: rewrite.Affinity{Mode: topology.AffinityCookie, Key: "sid", Consistent: true, ClientCookie: true}, path: "/",
		servers: []wantServer{{"rt1", 1, false}, {"rt2", 1, false}, {"rt3", 1, false}}, all: 3,
		notes: []string{"affinity: cookie sid from balance hash"},
	},
	{
		file: "haproxy-timers.cfg", kind: proxybin.HAProxy, pool: "chat",
		affinity: rewrite.Affinity{Mode: topology.AffinitySource, Consistent: true}, path: "/",
		servers: []wantServer{{"c1", 1, false}, {"c2", 1, false}, {"c3", 1, false}}, all: 3,
		notes: []string{"health checks: inter, fastinter and downinter set to 50ms"},
	},
	{
		file: "nginx-hash-cookie.conf", kind: proxybin.Nginx, pool: "app",
		affinity: rewrite.Affinity{Mode: topology.AffinityCookie, Key: "session_id", Consistent: true, ClientCookie: true}, path: "/",
		servers: []wantServer{{"app-1", 1, false}, {"app-2", 1, false}, {"app-3", 1, false}}, all: 3,
		notes: []string{"affinity: cookie session_id from hash $cookie_session_id"},
	},
	{
		file: "nginx-iphash.conf", kind: proxybin.Nginx, pool: "realtime",
		affinity: rewrite.Affinity{Mode: topology.AffinitySource}, path: "/socket.io/",
		servers: []wantServer{{"realtime-1", 3, false}, {"realtime-2", 1, false}, {"realtime-3", 1, false}}, all: 3,
		notes: []string{"first three octets", "TLS removed", "dropped `user`", "dropped redirects to https", "dropped `stream` blocks", "dropped extra `listen` lines", "answer 502"},
	},
	{
		file: "nginx-hash-arg.conf", kind: proxybin.Nginx, pool: "ws_pool",
		affinity: rewrite.Affinity{Mode: topology.AffinityQuery, Key: "sid", Consistent: true}, path: "/ws",
		servers: []wantServer{{"ws_pool-1", 1, false}, {"ws_pool-2", 1, false}}, all: 3,
		notes: []string{"affinity: query sid from hash $arg_sid"},
	},
	{
		file: "nginx-include/nginx.conf", kind: proxybin.Nginx, pool: "sockets",
		affinity: rewrite.Affinity{Mode: topology.AffinityHeader, Key: "X-User-Id"}, path: "/live/",
		servers: []wantServer{{"sockets-1", 1, false}, {"sockets-2", 1, false}}, all: 2,
		notes: []string{"include /etc/wslb-test-absent/mime.types does not exist here", "TLS removed"},
	},
	{
		file: "nginx-sites/nginx.conf", kind: proxybin.Nginx, pool: "ws_backend",
		affinity: rewrite.Affinity{Mode: topology.AffinityQuery, Key: "token", Consistent: true}, path: "/ws",
		servers: []wantServer{{"ws_backend-1", 1, false}, {"ws_backend-2", 1, false}, {"ws_backend-3", 1, false}}, all: 4,
		notes: []string{"affinity: query token from hash $arg_token", "mime.types does not exist here", "dropped extra `listen` lines"},
	},
	{
		file: "nginx-cookie-sid.conf", kind: proxybin.Nginx, pool: "app",
		affinity: rewrite.Affinity{Mode: topology.AffinityCookie, Key: "sid", ClientCookie: true}, path: "/",
		servers: []wantServer{{"app-1", 2, false}, {"app-2", 1, false}}, all: 4,
		notes: []string{"location / (", "forwards the Upgrade header"},
	},
	{
		file: "nginx-upgrade-map.conf", kind: proxybin.Nginx, pool: "realtime",
		affinity: rewrite.Affinity{Mode: topology.AffinitySource}, path: "/",
		servers: []wantServer{{"rt-a", 1, false}, {"rt-b", 1, false}}, all: 4,
		notes: []string{"chosen for Upgrade requests", "first three octets"},
	},
	{
		file: "nginx-if-upgrade.conf", kind: proxybin.Nginx, pool: "live",
		affinity: rewrite.Affinity{Mode: topology.AffinityHeader, Key: "Authorization"}, path: "/events",
		servers: []wantServer{{"live-1", 1, false}, {"live-2", 1, false}}, all: 3,
		notes: []string{"chosen for Upgrade requests", "affinity: header Authorization"},
	},
}

func TestLoadDetectsPoolAffinityAndPath(t *testing.T) {
	t.Parallel()
	for _, tc := range loadCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			c, err := rewrite.Load(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			require.Equal(t, tc.kind, c.Kind)
			require.Equal(t, tc.pool, c.Pool)
			require.Equal(t, tc.affinity, c.Affinity)
			require.Equal(t, tc.path, c.Path)
			require.Len(t, c.Servers, tc.all)
			var got []wantServer
			for _, s := range c.WebSocketServers() {
				got = append(got, wantServer{s.ID, s.Weight, s.Backup})
				require.Positive(t, s.Line)
			}
			require.Equal(t, tc.servers, got)
		})
	}
}

// zeroAddrs hands out port 0 on 127.0.0.1 for configs that are only read.
func zeroAddrs(n int) ([]netip.AddrPort, error) {
	addrs := make([]netip.AddrPort, n)
	for i := range addrs {
		addrs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0)
	}
	return addrs, nil
}

// renderLocal renders c against addresses that nothing listens on.
func renderLocal(t *testing.T, c *rewrite.Config, dir string) *rewrite.Result {
	t.Helper()
	ports, err := loopback.FreePorts(len(c.Servers))
	require.NoError(t, err)
	backends := map[string]string{}
	for i, id := range c.ServerIDs() {
		backends[id] = "127.0.0.1:" + strconv.Itoa(ports[i])
	}
	// With the fast checks verify runs by default, so the proxy's own
	// check sees them.
	res, err := c.Render(rewrite.Local{Dir: dir, Backends: backends, ListenAddrs: loopback.ListenAddrs, FastChecks: true})
	require.NoError(t, err)
	return res
}

func TestRenderedConfigsPassTheProxysOwnCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range loadCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			bin := testutil.NeedProxy(t, tc.kind)
			c, err := rewrite.Load(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			scratch, err := loopback.NewScratch()
			require.NoError(t, err)
			t.Cleanup(func() { scratch.Close() })
			dir := scratch.Dir
			res := renderLocal(t, c, dir)
			for _, n := range tc.notes {
				require.True(t, containsSubstring(res.Notes, n), "notes %q lack %q", res.Notes, n)
			}
			text := string(res.Config)
			// Nothing in the rewritten config (comments aside) points off
			// the machine or at system paths.
			var directives []string
			for _, line := range strings.Split(text, "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "#") {
					directives = append(directives, line)
				}
			}
			for _, bad := range []string{"10.0.", "192.168.", "172.16.", ".internal", "/var/log", "/run/", "chroot", "ssl", "crt ", "resolvers"} {
				require.NotContains(t, strings.Join(directives, "\n"), bad)
			}
			require.Contains(t, text, rewrite.ServerHeader)
			require.Contains(t, res.Listen, "127.0.0.1:")
			path := filepath.Join(dir, res.ConfigName)
			require.NoError(t, os.WriteFile(path, res.Config, 0o644))
			require.NoError(t, bin.Check(context.Background(), path), "rewritten config:\n%s", text)
		})
	}
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// TestRewrittenConfigsRunWithEchoBackends starts the real proxy with each
// rewritten config and checks WebSockets reach the detected pool, that the
// server header names the echo backend, and that a client keeping its
// affinity key stays on one server.
func TestRewrittenConfigsRunWithEchoBackends(t *testing.T) {
	t.Parallel()
	for _, tc := range loadCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			testutil.NeedProxy(t, tc.kind)
			c, err := rewrite.Load(filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			scratch, err := loopback.NewScratch()
			require.NoError(t, err)
			env := &loopback.Env{Scratch: scratch}
			t.Cleanup(func() { env.Close() })
			env.Backends, err = loopback.StartBackends(c.ServerIDs(), nil)
			require.NoError(t, err)
			addrs := map[string]string{}
			for _, id := range c.ServerIDs() {
				addrs[id] = env.Backends.Addr(id)
			}
			res, err := c.Render(rewrite.Local{Dir: scratch.Dir, Backends: addrs, ListenAddrs: loopback.ListenAddrs})
			require.NoError(t, err)
			cfg, err := scratch.WriteFile(res.ConfigName, res.Config)
			require.NoError(t, err)
			env.Proxy, err = loopback.StartProxy(context.Background(), loopback.ProxyOptions{Kind: tc.kind, Config: cfg, Dir: scratch.Dir, ReadyAddr: res.Listen})
			require.NoError(t, err, "config:\n%s", res.Config)

			wsIDs := map[string]bool{}
			for _, s := range res.Servers {
				wsIDs[s.ID] = true
			}
			jar := http.Header{}
			var first string
			for i := 0; i < 4; i++ {
				backend, server := dialThrough(t, res, jar)
				require.True(t, wsIDs[backend], "echo backend %s is not in the WebSocket pool %v", backend, wsIDs)
				require.Equal(t, backend, server, "the %s header must name the serving backend", rewrite.ServerHeader)
				if res.Affinity.Mode == topology.AffinityCookie {
					require.NotEmpty(t, jar.Get("Cookie"), "the proxy must set the %s cookie", res.Affinity.Key)
				}
				if i == 0 {
					first = backend
				} else if res.Affinity.Mode != topology.AffinityNone {
					require.Equal(t, first, backend, "affinity %s must keep the client on one server", res.Affinity.Mode)
				}
			}
			require.NoError(t, env.Close())
			require.NoDirExists(t, scratch.Dir)
		})
	}
}

// dialThrough opens a WebSocket through the proxy with the client's
// affinity key, echoes one message and returns the backend from the
// envelope and the server the proxy names in its header.
func dialThrough(t *testing.T, res *rewrite.Result, jar http.Header) (backend, server string) {
	t.Helper()
	u := url.URL{Scheme: "ws", Host: res.Listen, Path: res.Path}
	h := http.Header{}
	switch res.Affinity.Mode {
	case topology.AffinityHeader:
		h.Set(res.Affinity.Key, "client-42")
	case topology.AffinityQuery:
		u.RawQuery = url.Values{res.Affinity.Key: {"client-42"}}.Encode()
	case topology.AffinityCookie:
		if res.Affinity.ClientCookie && jar.Get("Cookie") == "" {
			jar.Set("Cookie", res.Affinity.Key+"=client-42")
		}
		if c := jar.Get("Cookie"); c != "" {
			h.Set("Cookie", c)
		}
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDial: (&net.Dialer{Timeout: 5 * time.Second}).Dial}
	conn, resp, err := d.Dial(u.String(), h)
	require.NoError(t, err, "dial %s", u.String())
	defer conn.Close()
	for _, c := range resp.Cookies() {
		if c.Name == res.Affinity.Key {
			jar.Set("Cookie", c.Name+"="+c.Value)
		}
	}
	server = resp.Header.Get(rewrite.ServerHeader)
	if id, ok := res.HeaderIDs[server]; ok {
		server = id
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte("ping")))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var env struct{ Backend string }
	require.NoError(t, conn.ReadJSON(&env))
	return env.Backend, server
}

// TestInvalidConfigsPointAtTheLine loads every fixture in testdata/invalid.
// The bad line carries "# ERROR: <summary>"; errors about the whole file
// are announced by "# ERROR-FILE: <summary>".
func TestInvalidConfigsPointAtTheLine(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(file)
			require.NoError(t, err)
			wantLine, want := 0, ""
			for i, line := range strings.Split(string(text), "\n") {
				if _, after, ok := strings.Cut(line, "# ERROR-FILE: "); ok {
					want = after
				} else if _, after, ok := strings.Cut(line, "# ERROR: "); ok {
					wantLine, want = i+1, after
				}
			}
			require.NotEmpty(t, want, "fixture lacks an ERROR comment")

			_, err = rewrite.Load(file)
			require.Error(t, err)
			var rerr *rewrite.Error
			require.ErrorAs(t, err, &rerr)
			require.Contains(t, rerr.Msg, want)
			require.Equal(t, wantLine, rerr.Line, "error: %v", err)
			if wantLine > 0 {
				abs, _ := filepath.Abs(file)
				require.Contains(t, []string{file, abs}, rerr.File)
				require.Contains(t, err.Error(), fmt.Sprintf(":%d: ", wantLine))
			}
		})
	}
}

func TestDetectKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		want       proxybin.Kind
	}{
		{"haproxy.cfg", "", proxybin.HAProxy},
		{"/etc/nginx/nginx.conf", "", proxybin.Nginx},
		{"lb.conf", "# comment\nglobal\n  maxconn 10\n", proxybin.HAProxy},
		{"lb.conf", "worker_processes 1;\nevents {}\n", proxybin.Nginx},
		{"site", "upstream u { server a:1; }\n", proxybin.Nginx},
		{"site", "listen l\n  bind :80\n", proxybin.HAProxy},
	} {
		require.Equal(t, tc.want, rewrite.DetectKind(tc.name, []byte(tc.text)), "%s %q", tc.name, tc.text)
	}
}

// TestProxyErrorsMapToTheUsersLines breaks a config in a way only the
// proxy notices and checks the proxy's complaint is mapped back to the
// user's file and line.
func TestProxyErrorsMapToTheUsersLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind       proxybin.Kind
		name, text string
		badLine    int
	}{
		{proxybin.HAProxy, "haproxy.cfg", "global\n    daemon\nfrontend fe\n    bind :80\n    default_backend be\nbackend be\n    timeout server 1parsec\n    server a 10.0.0.1:80\n", 7},
		{proxybin.Nginx, "nginx.conf", "user nobody;\nevents {}\nhttp {\n    server {\n        listen 80;\n        location / {\n            proxy_pass http://10.0.0.1:80;\n            proxy_read_timeout 1parsec;\n        }\n    }\n}\n", 8},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			bin := testutil.NeedProxy(t, tc.kind)
			src := filepath.Join(t.TempDir(), tc.name)
			require.NoError(t, os.WriteFile(src, []byte(tc.text), 0o644))
			c, err := rewrite.Load(src)
			require.NoError(t, err)
			scratch, err := loopback.NewScratch()
			require.NoError(t, err)
			t.Cleanup(func() { scratch.Close() })
			res := renderLocal(t, c, scratch.Dir)
			path, err := scratch.WriteFile(res.ConfigName, res.Config)
			require.NoError(t, err)
			// Check without -q so HAProxy says which line it rejects.
			args := []string{"-c", "-f", path}
			if tc.kind == proxybin.Nginx {
				args = []string{"-t", "-p", scratch.Dir + "/", "-e", "/dev/stderr", "-c", path}
			}
			out, err := exec.Command(bin.Path, args...).CombinedOutput()
			require.Error(t, err, "the proxy must reject the config:\n%s", res.Config)
			mapped := res.MapLines(string(out))
			require.Contains(t, mapped, fmt.Sprintf("%s:%d", src, tc.badLine), "raw: %s", out)
		})
	}
}

// FuzzLoadAndRender feeds arbitrary configs through Load and Render: they
// must return an error or a config, never panic.
func FuzzLoadAndRender(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.c*"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		require.NoError(f, err)
		f.Add(filepath.Base(s), b)
	}
	f.Add("haproxy.cfg", []byte("frontend f\n bind :1\n use_backend b if { \nbackend b\n server"))
	f.Add("nginx.conf", []byte("http { server { location ~ ^\\ { proxy_pass http://u; } } upstream u { server a weight=; } }"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, name string, text []byte) {
		// The name only selects the proxy kind.
		if strings.Contains(name, "nginx") {
			name = "nginx.conf"
		} else {
			name = "haproxy.cfg"
		}
		sub, err := os.MkdirTemp(dir, "case")
		require.NoError(t, err)
		defer os.RemoveAll(sub)
		path := filepath.Join(sub, name)
		require.NoError(t, os.WriteFile(path, text, 0o644))
		c, err := rewrite.Load(path)
		require.NotErrorIs(t, err, rewrite.ErrInternal)
		if err != nil {
			return
		}
		backends := map[string]string{}
		for i, id := range c.ServerIDs() {
			backends[id] = "127.0.0.1:" + strconv.Itoa(20000+i)
		}
		res, err := c.Render(rewrite.Local{Dir: sub, Backends: backends, FastChecks: true, ListenAddrs: func(n int) ([]netip.AddrPort, error) {
			addrs := make([]netip.AddrPort, n)
			for i := range addrs {
				addrs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(30000+i))
			}
			return addrs, nil
		}})
		require.NotErrorIs(t, err, rewrite.ErrInternal)
		if err != nil {
			return
		}
		require.NotEmpty(t, res.Config)
	})
}

// Health checks that name their own address would probe the user's real
// servers; the rendered config must reach nothing outside loopback.
func TestRenderedHAProxyChecksStayOnLoopback(t *testing.T) {
	t.Parallel()
	for _, check := range []string{
		"option tcp-check\n    tcp-check connect addr 10.9.9.9 port 80",
		"option httpchk\n    http-check connect addr 10.9.9.9 port 80",
		"option tcp-check\n    tcp-check connect port 80 addr 10.9.9.9",
	} {
		t.Run(check, func(t *testing.T) {
			t.Parallel()
			text := "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n" +
				"frontend fe\n    bind :8080\n    default_backend be\n" +
				"backend be\n    " + check + "\n    server a 10.1.1.1:80 check\n"
			src := filepath.Join(t.TempDir(), "haproxy.cfg")
			require.NoError(t, os.WriteFile(src, []byte(text), 0o644))
			c, err := rewrite.Load(src)
			require.NoError(t, err)
			dir := t.TempDir()
			res := renderLocal(t, c, dir)
			require.NotContains(t, string(res.Config), "10.9.9.9", "%s", res.Config)
			require.Contains(t, strings.Join(res.Notes, "\n"), "connect` rules")
			bin := testutil.NeedProxy(t, proxybin.HAProxy)
			path := filepath.Join(dir, res.ConfigName)
			require.NoError(t, os.WriteFile(path, res.Config, 0o644))
			out, err := exec.Command(bin.Path, "-c", "-f", path).CombinedOutput()
			require.NoError(t, err, "%s\n%s", out, res.Config)
		})
	}
}
