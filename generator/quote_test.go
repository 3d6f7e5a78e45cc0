package generator

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/topology"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		in        string
		ha, ng    string
		wantError bool
	}{
		{in: "/ws", ha: "/ws", ng: "/ws"},
		{in: "https://a.example:8443", ha: "https://a.example:8443", ng: "https://a.example:8443"},
		{in: "/a(b)*!", ha: "'/a(b)*!'", ng: `"/a(b)*!"`},
		{in: "", wantError: true},
		{in: "a b", wantError: true},
		{in: "a\nb", wantError: true},
		{in: "/x;listen", wantError: true},
		{in: "a}b", wantError: true},
		{in: "a{b", wantError: true},
		{in: "a#b", wantError: true},
		{in: "a$b", wantError: true},
		{in: "a'b", wantError: true},
		{in: `a"b`, wantError: true},
		{in: `a\b`, wantError: true},
		{in: "a%b", wantError: true},
		{in: "a\x00b", wantError: true},
		{in: "é", wantError: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			ha, herr := haQuote("value", tt.in)
			ng, nerr := ngQuote("value", tt.in)
			if tt.wantError {
				require.Error(t, herr)
				require.Error(t, nerr)
				require.Contains(t, herr.Error(), "cannot be written")
				return
			}
			require.NoError(t, herr)
			require.NoError(t, nerr)
			require.Equal(t, tt.ha, ha)
			require.Equal(t, tt.ng, ng)
		})
	}
}

func TestDur(t *testing.T) {
	tests := map[time.Duration]string{
		0:                       "0s",
		1500 * time.Millisecond: "1500ms",
		90 * time.Second:        "90s",
		30 * time.Minute:        "30m",
		2 * time.Hour:           "2h",
		36 * time.Hour:          "36h",
		time.Microsecond:        "1ms",
	}
	for d, want := range tests {
		require.Equal(t, want, dur(d), "%v", d)
	}
	require.Equal(t, "2s", dur(wholeSeconds(1500*time.Millisecond)))
	require.Equal(t, "1s", dur(wholeSeconds(100*time.Millisecond)))
	require.Equal(t, "6s", dur(wholeSeconds(6*time.Second)))
}

func TestIdentsAreUniqueCaseInsensitively(t *testing.T) {
	n := newIdents()
	n.reserve("wslb_is_websocket")
	a := n.get("wslb", "a-b")
	b := n.get("wslb", "a_b")
	c := n.get("wslb", "A_B")
	d := n.get("wslb", "is.websocket")
	require.Equal(t, "wslb_a_b", a)
	require.Equal(t, a, n.get("wslb", "a-b"), "the same key gives the same identifier")
	seen := map[string]bool{}
	for _, id := range []string{a, b, c, d, "wslb_is_websocket"} {
		require.False(t, seen[strings.ToLower(id)], "identifier %s given twice", id)
		seen[strings.ToLower(id)] = true
		require.Regexp(t, `^[A-Za-z0-9_]+$`, id)
	}
}

func TestNginxSizing(t *testing.T) {
	tests := []struct{ maxConn, conns, rlimit int }{
		{100, 4096, 5120},
		{10000, 20000, 21024},
		{1000000, 1048576 - 1024, 1048576},
	}
	for _, tt := range tests {
		c, r := nginxSizing(tt.maxConn)
		require.Equal(t, tt.conns, c, "worker_connections for %d", tt.maxConn)
		require.Equal(t, tt.rlimit, r, "worker_rlimit_nofile for %d", tt.maxConn)
	}
}

func route(name, prefix string, ws bool, pool string) *topology.Route {
	return &topology.Route{Name: name, PathPrefix: prefix, WebSocketOnly: ws, Pool: pool}
}

// TestPlanLocations checks that NGINX's longest-prefix locations reproduce
// wslb's first-match-in-order routing.
func TestPlanLocations(t *testing.T) {
	routes := []*topology.Route{
		route("live", "/api/live", true, "rt"),
		route("api", "/api", false, "api"),
		route("deep", "/api/live/x", false, "deep"), // only reached by plain requests
		route("events", "/events", true, "rt"),
		route("all", "/", false, "web"),
		route("never", "/never", false, "nope"), // shadowed by "all"
	}
	type want struct{ ws, http string }
	got := map[string]want{}
	for _, p := range planLocations(routes) {
		w := want{}
		if p.WSRoute != nil {
			w.ws = p.WSRoute.Name
		}
		if p.HTTPRoute != nil {
			w.http = p.HTTPRoute.Name
		}
		got[p.Prefix] = w
	}
	require.Equal(t, map[string]want{
		"/":           {ws: "all", http: "all"},
		"/api/live":   {ws: "live", http: "api"},
		"/api":        {ws: "api", http: "api"},
		"/api/live/x": {ws: "live", http: "api"},
		"/events":     {ws: "events", http: "all"},
		"/never":      {ws: "all", http: "all"},
	}, got)

	// No catch-all: "/" answers nothing.
	plans := planLocations(routes[:1])
	require.Equal(t, "/", plans[0].Prefix)
	require.Nil(t, plans[0].WSRoute)
	require.Nil(t, plans[0].HTTPRoute)
	require.Equal(t, "live", plans[1].WSRoute.Name)
	require.Nil(t, plans[1].HTTPRoute)
}

// TestGenerateRejectsUnsafeValues: values the loader would refuse never
// reach a config even when a model is built by hand.
func TestGenerateRejectsUnsafeValues(t *testing.T) {
	tests := map[string]func(*topology.Topology){
		"path": func(t *topology.Topology) { t.Routes[0].PathPrefix = "/x; listen 1" },
		"host": func(t *topology.Topology) { t.Routes[0].Host = "a.example}" },
		"cookie": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityCookie, Cookie: "a}b"}
		},
		"header": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityHeader, Header: "X-A\nB"}
		},
		"param": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityQuery, Param: "a;b"}
		},
		"origin":      func(t *topology.Topology) { t.Security.AllowedOrigins = []string{"https://a.example\nlisten 1"} },
		"health path": func(t *topology.Topology) { t.Pools[0].Health.Path = "/h;x" },
		"certificate": func(t *topology.Topology) {
			t.Listeners[0].TLS = &topology.TLS{Certificate: "/etc/a b.pem"}
		},
		"trusted proxy": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinitySource, ClientIPHeader: "X-Forwarded-For", TrustedProxies: []string{"10.0.0.0/8 }"}}
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			topo := baseTopology("unsafe", topology.Affinity{Mode: topology.AffinityNone})
			mutate(topo)
			_, err := Generate(topo, Options{})
			require.Error(t, err)
		})
	}
	_, err := Generate(baseTopology("ok", topology.Affinity{}), Options{Runtime: &Runtime{Dir: "relative/dir"}})
	require.Error(t, err)
	_, err = Generate(baseTopology("ok", topology.Affinity{}), Options{IdentityHeader: "X-A;b"})
	require.Error(t, err)
}

func TestGenerateIsDeterministic(t *testing.T) {
	for _, c := range goCases {
		a, err := Generate(c.topo(), Options{IdentityHeader: "X-Served-By", Runtime: &Runtime{Dir: "/tmp/wslb-run"}})
		require.NoError(t, err)
		b, err := Generate(c.topo(), Options{IdentityHeader: "X-Served-By", Runtime: &Runtime{Dir: "/tmp/wslb-run"}})
		require.NoError(t, err)
		require.Equal(t, a, b, c.name)
	}
}

// TestRuntimeLayout: in runtime mode every path a proxy writes is under
// the scratch dir, and the identity header is added.
func TestRuntimeLayout(t *testing.T) {
	dir := "/tmp/wslb-scratch"
	arts, err := Generate(baseTopology("rt", topology.Affinity{Mode: topology.AffinityCookie, Cookie: "srv"}), Options{Runtime: &Runtime{Dir: dir}, IdentityHeader: "X-Served-By"})
	require.NoError(t, err)
	ha, ng := string(arts[0].Bytes), string(arts[1].Bytes)
	for _, l := range []string{
		"stats socket " + dir + "/haproxy.sock mode 600 level admin expose-fd listeners",
		"log stderr format short local0 notice",
		"no strict-limits",
		"http-response set-header X-Served-By %[srv_name]",
	} {
		require.Contains(t, ha, l)
	}
	for _, l := range []string{
		"daemon off;", "pid " + dir + "/nginx.pid;", "error_log " + dir + "/error.log notice;",
		"access_log " + dir + "/access.log", "client_body_temp_path " + dir + "/client_body_temp;",
		"proxy_temp_path " + dir + "/proxy_temp;", "fastcgi_temp_path " + dir + "/fastcgi_temp;",
		"uwsgi_temp_path " + dir + "/uwsgi_temp;", "scgi_temp_path " + dir + "/scgi_temp;",
		"add_header X-Served-By $wslb_realtime_server always;", "add_header X-Served-By $wslb_web_server always;",
	} {
		require.Contains(t, ng, l)
	}
	for _, prod := range []string{"/run/", "/var/"} {
		require.NotContains(t, ha, prod)
		require.NotContains(t, ng, prod)
	}
}

func BenchmarkGenerate(b *testing.B) {
	topo := baseTopology("bench", topology.Affinity{Mode: topology.AffinityCookie, Cookie: "srv"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(topo, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
