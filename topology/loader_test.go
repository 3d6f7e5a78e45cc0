package topology_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/topology"
)

const minimal = `
listener "public" {
  address = "0.0.0.0:8080"
}
pool "web" {
  server "web1" {
    address = "10.0.0.21:8080"
  }
}
`

func load(t *testing.T, src string) (*topology.Topology, hcl.Diagnostics) {
	t.Helper()
	return topology.NewLoader().Load("test.hcl", []byte(src))
}

func mustLoad(t *testing.T, src string) *topology.Topology {
	t.Helper()
	topo, diags := load(t, src)
	require.Empty(t, diags, "%s", diags)
	require.NotNil(t, topo)
	return topo
}

func TestDefaultsAreApplied(t *testing.T) {
	topo := mustLoad(t, minimal)

	require.Equal(t, "test", topo.Name, "name defaults to the file's base name")
	require.Equal(t, "test.hcl", topo.Filename)
	require.Equal(t, topology.Version{Major: 2, Minor: 4}, topo.Targets.Version("haproxy"))
	require.Equal(t, topology.Version{Major: 1, Minor: 18}, topo.Targets.Version("nginx"))

	require.Equal(t, topology.Timeouts{
		Connect: 5 * time.Second, Client: time.Minute, Server: time.Minute, Tunnel: time.Hour,
		ClientFin: 30 * time.Second, ServerFin: 30 * time.Second,
		HTTPRequest: 10 * time.Second, HTTPKeepAlive: 10 * time.Second,
		Range: topo.Timeouts.Range,
	}, topo.Timeouts)
	require.Equal(t, 30*time.Minute, topo.Reload.Drain)
	require.True(t, topo.Security.AllowMissingOrigin)
	require.Empty(t, topo.Security.AllowedOrigins)
	require.Equal(t, topology.DefaultMaxConns, topo.Limits.MaxConns)

	require.Len(t, topo.Listeners, 1)
	l := topo.Listeners[0]
	require.Equal(t, topology.Address{Host: "0.0.0.0", Port: 8080}, l.Address)
	require.Nil(t, l.TLS)
	require.Equal(t, 2, l.Range.Start.Line)

	// One pool and no route: everything goes to the pool.
	require.Len(t, topo.Routes, 1)
	r := topo.Routes[0]
	require.Equal(t, "web", r.Pool)
	require.Equal(t, "/", r.PathPrefix)
	require.Empty(t, r.Host)
	require.Empty(t, r.Listener)
	require.False(t, r.WebSocketOnly)

	p := topo.Pool("web")
	require.NotNil(t, p)
	require.Equal(t, topology.BalanceRoundRobin, p.Balance)
	require.Equal(t, topology.AffinityNone, p.Affinity.Mode)
	require.True(t, p.Affinity.Consistent)
	require.Equal(t, topology.NginxHashRemoteAddr, p.Affinity.NginxSource)
	require.Equal(t, topology.HealthCheck{
		Enabled: true, Path: "/healthz", Interval: 2 * time.Second, Rise: 2, Fall: 3,
		Timeout: 5 * time.Second, Range: p.Health.Range,
	}, p.Health)
	require.False(t, p.WebSocket)
	require.Equal(t, 5, p.Range.Start.Line)

	s := p.Servers[0]
	require.Equal(t, 1, s.Weight)
	require.False(t, s.Backup)
	require.Zero(t, s.MaxConns)
	require.Equal(t, topology.Address{Host: "10.0.0.21", Port: 8080}, s.Address)
}

func TestEverySettingIsRead(t *testing.T) {
	topo := mustLoad(t, `
name = "full"
target {
  haproxy = "2.8.3"
  nginx   = "1.29.6"
}
listener "public" {
  address = "[::]:8443"
  tls {
    certificate = "/etc/ssl/private/chat.pem"
    key         = "/etc/ssl/private/chat.pem.key"
    profile     = "modern"
  }
}
listener "admin" {
  address = "127.0.0.1:9000"
}
route "realtime" {
  path      = "/live/"
  host      = "chat.example.com"
  websocket = true
  listener  = "public"
  pool      = "realtime"
}
route "admin" {
  listener = "admin"
  pool     = "realtime"
}
pool "realtime" {
  balance = "leastconn"
  affinity {
    mode             = "source"
    consistent       = false
    nginx_method     = "hash"
    client_ip_header = "X-Forwarded-For"
    trusted_proxies  = ["10.0.0.0/8", "fd00::/8", "192.168.1.1"]
  }
  health_check {
    enabled  = false
    path     = "/status"
    interval = "5s"
    rise     = 1
    fall     = 5
    timeout  = "1500ms"
  }
  server "ws1" {
    address   = "ws1.internal:8080"
    weight    = 256
    max_conns = 100
  }
  server "ws2" {
    address = "[fd00::12]:8080"
    backup  = true
  }
}
timeouts {
  connect         = "3s"
  client          = "30s"
  server          = "45s"
  tunnel          = "1h30m"
  client_fin      = "10s"
  server_fin      = "20s"
  http_request    = "5s"
  http_keep_alive = "2s"
}
reload {
  drain = "5m"
}
security {
  allowed_origins      = ["https://chat.example.com", "http://localhost:3000"]
  allow_missing_origin = false
}
limits {
  max_conns = 50000
}
`)
	require.Equal(t, "full", topo.Name)
	require.Equal(t, topology.Version{Major: 2, Minor: 8, Patch: 3}, topo.Targets.Version("haproxy"))
	require.Equal(t, topology.Version{Major: 1, Minor: 29, Patch: 6}, topo.Targets.Version("nginx"))

	pub := topo.Listener("public")
	require.Equal(t, topology.Address{Host: "::", Port: 8443}, pub.Address)
	require.Equal(t, &topology.TLS{
		Certificate: "/etc/ssl/private/chat.pem", Key: "/etc/ssl/private/chat.pem.key",
		Profile: topology.TLSModern, Range: pub.TLS.Range,
	}, pub.TLS)

	require.Len(t, topo.Routes, 2)
	r := topo.Routes[0]
	require.Equal(t, topology.Route{
		Name: "realtime", Listener: "public", PathPrefix: "/live/", Host: "chat.example.com",
		WebSocketOnly: true, Pool: "realtime", Range: r.Range,
	}, *r)
	require.Equal(t, "/", topo.Routes[1].PathPrefix)

	p := topo.Pool("realtime")
	require.Equal(t, topology.BalanceLeastConn, p.Balance)
	require.True(t, p.WebSocket)
	require.Equal(t, topology.Affinity{
		Mode: topology.AffinitySource, Declared: true, Consistent: false, NginxSource: topology.NginxHashRemoteAddr,
		ClientIPHeader: "X-Forwarded-For", TrustedProxies: []string{"10.0.0.0/8", "fd00::/8", "192.168.1.1"},
		Range: p.Affinity.Range,
	}, p.Affinity)
	require.Equal(t, topology.HealthCheck{
		Enabled: false, Path: "/status", Interval: 5 * time.Second, Rise: 1, Fall: 5,
		Timeout: 1500 * time.Millisecond, Range: p.Health.Range,
	}, p.Health)
	require.Equal(t, topology.Server{Name: "ws1", Address: topology.Address{Host: "ws1.internal", Port: 8080}, Weight: 256, MaxConns: 100, Range: p.Servers[0].Range}, *p.Servers[0])
	require.Equal(t, topology.Server{Name: "ws2", Address: topology.Address{Host: "fd00::12", Port: 8080}, Weight: 1, Backup: true, Range: p.Servers[1].Range}, *p.Servers[1])

	require.Equal(t, topology.Timeouts{
		Connect: 3 * time.Second, Client: 30 * time.Second, Server: 45 * time.Second, Tunnel: 90 * time.Minute,
		ClientFin: 10 * time.Second, ServerFin: 20 * time.Second, HTTPRequest: 5 * time.Second, HTTPKeepAlive: 2 * time.Second,
		Range: topo.Timeouts.Range,
	}, topo.Timeouts)
	require.Equal(t, 5*time.Minute, topo.Reload.Drain)
	require.Equal(t, []string{"https://chat.example.com", "http://localhost:3000"}, topo.Security.AllowedOrigins)
	require.False(t, topo.Security.AllowMissingOrigin)
	require.Equal(t, 50000, topo.Limits.MaxConns)
}

func TestHealthTimeoutDefaultsToConnect(t *testing.T) {
	topo := mustLoad(t, minimal+`timeouts {
  connect = "750ms"
}`)
	require.Equal(t, 750*time.Millisecond, topo.Pools[0].Health.Timeout)
}

func TestCookieAffinity(t *testing.T) {
	topo := mustLoad(t, `
listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  affinity {
    mode    = "cookie"
    cookie  = "SRV"
    max_age = "0s"
  }
  server "a" {
    address = "10.0.0.1:80"
  }
}`)
	a := topo.Pools[0].Affinity
	require.Equal(t, topology.AffinityCookie, a.Mode)
	require.Equal(t, "SRV", a.Cookie)
	require.Zero(t, a.CookieMaxAge)
	require.True(t, a.Consistent)
}

func TestWebSocketIsDerived(t *testing.T) {
	tests := []struct {
		name  string
		route string
		pool  string
		want  bool
	}{
		{"websocket route", "path = \"/\"\nwebsocket = true", "", true},
		{"ws path", `path = "/ws"`, "", true},
		{"nested ws path", `path = "/api/ws/"`, "", true},
		{"socket.io", `path = "/socket.io/"`, "", true},
		{"action cable", `path = "/cable"`, "", true},
		{"signalr hub", `path = "/hubs/chat"`, "", true},
		{"graphql-ws", `path = "/graphql-ws"`, "", true},
		{"plain", `path = "/api/"`, "", false},
		{"ws as substring only", `path = "/news"`, "", false},
		{"explicit", `path = "/"`, "websocket = true", true},
		{"explicit false", `path = "/api/"`, "websocket = false", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			topo := mustLoad(t, `
listener "l" {
  address = "127.0.0.1:8080"
}
route "r" {
  `+tt.route+`
  pool = "p"
}
pool "p" {
  `+tt.pool+`
  server "a" {
    address = "10.0.0.1:80"
  }
}`)
			require.Equal(t, tt.want, topo.Pools[0].WebSocket)
		})
	}
}

func TestMaxConnsIsDerived(t *testing.T) {
	pools := func(a, b, spare string) string {
		return `
listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  affinity {
    mode = "none"
  }
  server "a" {
    address = "10.0.0.1:80"
    ` + a + `
  }
  server "b" {
    address = "10.0.0.2:80"
    ` + b + `
  }
  server "spare" {
    address = "10.0.0.3:80"
    backup  = true
    ` + spare + `
  }
}`
	}
	tests := []struct {
		name    string
		a, b, s string
		want    int
	}{
		{"all limited: sum of primaries", "max_conns = 300", "max_conns = 200", "max_conns = 1000", 500},
		{"backups may be unlimited", "max_conns = 300", "max_conns = 200", "", 500},
		{"one unlimited", "max_conns = 300", "", "", topology.DefaultMaxConns},
		{"capped", "max_conns = 1000000", "max_conns = 1000000", "", topology.MaxConnsLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := mustLoad(t, pools(tt.a, tt.b, tt.s))
			require.Equal(t, tt.want, topo.Limits.MaxConns)
		})
	}
}

func TestWarningsKeepTheModel(t *testing.T) {
	topo, diags := load(t, `
listener "l" {
  address = "127.0.0.1:8080"
}
route "ws" {
  path = "/ws"
  pool = "p"
}
pool "p" {
  server "a" {
    address = "10.0.0.1:80"
  }
  server "b" {
    address = "10.0.0.2:80"
  }
}`)
	require.False(t, diags.HasErrors())
	require.Len(t, diags, 1)
	require.Equal(t, hcl.DiagWarning, diags[0].Severity)
	require.Equal(t, "WebSocket pool without affinity", diags[0].Summary)
	require.NotNil(t, topo)
	require.True(t, topo.Pools[0].WebSocket)
}

// A misspelled argument is reported at its position with a suggestion, and
// the rendered diagnostic shows file, line and the offending source line.
func TestTypoGetsSuggestionAndSnippet(t *testing.T) {
	l := topology.NewLoader()
	src := strings.Replace(minimal, `address = "10.0.0.21:8080"`, `adress = "10.0.0.21:8080"`, 1)
	topo, diags := l.Load("chat.hcl", []byte(src))
	require.Nil(t, topo)
	var typo *hcl.Diagnostic
	for _, d := range diags {
		if d.Summary == "Unsupported argument" {
			typo = d
		}
	}
	require.NotNil(t, typo, "%s", diags)
	require.Contains(t, typo.Detail, `Did you mean "address"?`)
	require.Equal(t, hcl.Pos{Line: 7, Column: 5, Byte: typo.Subject.Start.Byte}, typo.Subject.Start)

	var buf bytes.Buffer
	require.NoError(t, l.WriteDiagnostics(&buf, diags, 80, false))
	out := buf.String()
	require.Contains(t, out, "chat.hcl:7:5: error: Unsupported argument\n")
	require.Contains(t, out, " 7 |     adress = \"10.0.0.21:8080\"\n")
	require.Contains(t, out, "   |     ^^^^^^\n", "the underline covers the misspelled name")
	require.Contains(t, out, `Did you mean "address"?`)
}

func TestAllProblemsAreReportedAtOnce(t *testing.T) {
	_, diags := load(t, `
listener "l;" {
  address = "0.0.0.0:99999"
}
route "r" {
  path = "no-slash"
  pool = "missing"
}
pool "p" {
  affinity {
    mode = "cookie"
  }
  server "a" {
    address = "10.0.0.1:80"
    weight  = 0
  }
}
timeouts {
  tunnel = "forever"
}`)
	var summaries []string
	for _, d := range diags {
		summaries = append(summaries, d.Summary)
	}
	require.Equal(t, []string{
		"Invalid name", "Invalid listen address", "Invalid path", "Undefined pool",
		"Missing affinity cookie name", "Weight out of range", "Invalid duration",
	}, summaries, "sorted by position")
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.hcl")
	require.NoError(t, os.WriteFile(path, []byte(minimal), 0o600))
	topo, diags := topology.NewLoader().LoadFile(path)
	require.Empty(t, diags)
	require.Equal(t, "edge", topo.Name)
	require.Equal(t, path, topo.Filename)
	require.Equal(t, path, topo.Listeners[0].Range.Filename)

	missing := filepath.Join(dir, "missing.hcl")
	topo, diags = topology.NewLoader().LoadFile(missing)
	require.Nil(t, topo)
	require.True(t, diags.HasErrors())
	require.Equal(t, "Cannot read topology file", diags[0].Summary)
	require.Equal(t, "Reading "+missing+" failed: no such file or directory.", diags[0].Detail, "the path once, then why")
}

// Loading a second source under the same file name must not reuse the
// first parse, neither for the model nor for snippets.
func TestLoaderDoesNotCacheSources(t *testing.T) {
	l := topology.NewLoader()
	topo, diags := l.Load("t.hcl", []byte(minimal))
	require.Empty(t, diags)
	require.Equal(t, 8080, topo.Listeners[0].Address.Port)

	bad := strings.Replace(minimal, "0.0.0.0:8080", "0.0.0.0:8080;", 1)
	topo, diags = l.Load("t.hcl", []byte(bad))
	require.Nil(t, topo)
	var buf bytes.Buffer
	require.NoError(t, l.WriteDiagnostics(&buf, diags, 0, false))
	require.Contains(t, buf.String(), `"0.0.0.0:8080;"`)

	topo, diags = l.Load("t.hcl", []byte(strings.Replace(minimal, "8080", "9090", 1)))
	require.Empty(t, diags)
	require.Equal(t, 9090, topo.Listeners[0].Address.Port)
}

func TestTopLevelNameFallback(t *testing.T) {
	topo, diags := topology.NewLoader().Load("/x/1-bad name.hcl", []byte(minimal))
	require.Empty(t, diags)
	require.Equal(t, "topology", topo.Name)
}

func TestCookieAffinityWithHostNames(t *testing.T) {
	src := func(nginx string) string {
		return `
target {
  nginx = "` + nginx + `"
}
listener "l" {
  address = "127.0.0.1:8080"
}
pool "p" {
  affinity {
    mode   = "cookie"
    cookie = "SRV"
  }
  server "a" {
    address = "app.internal:80"
  }
}`
	}
	topo := mustLoad(t, src("1.29.6"))
	require.Equal(t, "app.internal", topo.Pools[0].Servers[0].Address.Host)

	_, diags := load(t, src("1.29.5"))
	require.True(t, diags.HasErrors())
	require.Equal(t, "Cookie affinity needs IP server addresses", diags[0].Summary)
	require.Equal(t, 14, diags[0].Subject.Start.Line)
}

// The test block carries verify's fault specs; only their characters are
// checked here (verify parses the grammar).
func TestTestBlockFaults(t *testing.T) {
	topo, diags := topology.NewLoader().Load("t.hcl", []byte(minimal+"\ntest {\n  faults = [\"pause:ws2\", \"loss:ws1:5%\"]\n}\n"))
	require.Empty(t, diags)
	require.Equal(t, []string{"pause:ws2", "loss:ws1:5%"}, topo.Test.Faults)
	require.Equal(t, "t.hcl", topo.Test.FaultsRange.Filename)
	require.Positive(t, topo.Test.FaultsRange.Start.Line)

	_, diags = topology.NewLoader().Load("t.hcl", []byte(minimal+"\ntest {\n  faults = [\"pause:ws2\\nlisten 1\"]\n}\n"))
	require.True(t, diags.HasErrors())
	require.Contains(t, diags.Error(), "is not a valid fault")
}

// A broker block's defaults, and a pool with a broker needs no affinity
// block for a WebSocket-only route, not even a warning.
func TestBrokerDefaults(t *testing.T) {
	topo := mustLoad(t, `
listener "l" {
  address = "127.0.0.1:8080"
}
route "ws" {
  path      = "/live"
  websocket = true
  pool      = "p"
}
pool "p" {
  broker {
    kind = "nats"
    url  = "nats://127.0.0.1:4222"
  }
  server "a" {
    address = "10.0.0.1:80"
  }
  server "b" {
    address = "10.0.0.2:80"
  }
}
`)
	b := topo.Pools[0].Broker
	require.NotNil(t, b)
	require.Equal(t, broker.NATS, b.Kind)
	require.Equal(t, broker.DefaultChannel, b.Channel)
	require.Equal(t, topology.DefaultRoomKey, b.RoomKey)
	require.Equal(t, 11, b.Range.Start.Line)
	require.Equal(t, topology.AffinityNone, topo.Pools[0].Affinity.Mode)
}

// The target block takes one argument per registered target proxy (this
// package's tests register "extra" beside HAProxy and NGINX); another name
// is refused where it stands, naming the ones it takes.
func TestTargetNamesAreTheRegisteredProxies(t *testing.T) {
	var names []string
	for _, p := range topology.TargetProxies() {
		names = append(names, p.Name)
	}
	require.Equal(t, []string{"extra", "haproxy", "nginx"}, names)

	topo := mustLoad(t, "target {\n  extra = \"3.1\"\n}\n"+minimal)
	require.Equal(t, topology.Version{Major: 3, Minor: 1}, topo.Targets.Version("extra"))
	require.Equal(t, topology.MinHAProxy, topo.Targets.Version("haproxy"), "unnamed: the oldest supported")
	require.Equal(t, topology.Version{Major: 3}, mustLoad(t, minimal).Targets.Version("extra"))
	require.Zero(t, topo.Targets.Version("envoy"))

	_, diags := load(t, "target {\n  extra = \"2.9\"\n}\n"+minimal)
	require.True(t, diags.HasErrors())
	require.Equal(t, "Unsupported Extra version", diags[0].Summary)
	require.Contains(t, diags[0].Detail, "wslb generates configs for Extra 3.0 or newer")
	require.Equal(t, 2, diags[0].Subject.Start.Line)

	_, diags = load(t, "target {\n  haproxy = \"2.6\"\n  envoy   = \"1.30\"\n}\n"+minimal)
	require.True(t, diags.HasErrors())
	var buf bytes.Buffer
	require.NoError(t, topology.NewLoader().WriteDiagnostics(&buf, diags, 200, false))
	out := buf.String()
	require.Contains(t, out, "test.hcl:3:3: error: Unsupported argument\n")
	require.Contains(t, out, `An argument named "envoy" is not expected here.`)
	require.Contains(t, out, `A target names the version of "extra", "haproxy" or "nginx".`)
}
