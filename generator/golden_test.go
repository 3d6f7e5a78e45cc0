package generator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the generator's output")

const goldenDir = "../testdata/golden"

// exampleLines are the lines each example's configs must hold, so that a
// regression names what is missing rather than only "golden differs".
var exampleLines = map[string]struct{ haproxy, nginx []string }{
	"chat": {
		haproxy: []string{"balance source", "hash-type consistent", "use_backend be_realtime if route_realtime_path is_websocket", "acl wslb_origin_allowed req.fhdr(Origin) -m str -i https://chat.example.com", "acl wslb_origin_single req.fhdr_cnt(Origin) eq 1", "timeout tunnel 1h", "timeout client-fin 30s", "hard-stop-after 30m", "maxconn 10000", "server ws1 10.0.0.11:8080 check inter 2s rise 2 fall 3 maxconn 5000"},
		nginx:   []string{"hash $remote_addr consistent;", "proxy_read_timeout 1h;", "worker_connections 20000;", "worker_shutdown_timeout 30m;", "error_page 418 = @wslb_websocket_1;", "max_conns=5000"},
	},
	"cookie": {
		haproxy: []string{"cookie WSLB_SRV insert indirect nocache httponly maxlife 12h attr Max-Age=43200 attr SameSite=Lax", "balance leastconn", "server spare 10.0.1.19:8080 check inter 3s rise 2 fall 3 backup cookie spare", "http-request deny deny_status 403 if is_websocket !wslb_origin_present"},
		nginx:   []string{"map $cookie_WSLB_SRV $wslb_app_upstream {", "add_header Set-Cookie $wslb_app_set_cookie always;", "upstream wslb_app_server_spare {", "proxy_read_timeout 2h;", "least_conn;"},
	},
	"fanout": {
		haproxy: []string{"backend be_realtime # wslb:ignore WSLB204", "# wslb: The servers share messages through a redis broker: no affinity needed.", "use_backend be_realtime if route_realtime_path is_websocket"},
		nginx:   []string{"upstream wslb_realtime { # wslb:ignore WSLB105", "# wslb: The servers share messages through a redis broker: no affinity needed."},
	},
	"session-key": {
		haproxy: []string{"balance url_param room", "balance hdr(X-Session-Id)", "maxconn 8000", "use_backend be_rooms if route_play_path is_websocket"},
		nginx:   []string{"hash $arg_room consistent;", "hash $http_x_session_id consistent;", "worker_connections 16000;"},
	},
	"socketio": {
		haproxy: []string{"cookie io_srv insert indirect nocache httponly attr SameSite=Lax", "use_backend be_socketio if route_socketio_path"},
		nginx:   []string{"location /socket.io/ {", "proxy_pass http://$wslb_socketio_upstream;", "proxy_read_timeout 5m;"},
	},
}

type goldenCase struct {
	name    string
	topo    *topology.Topology
	haproxy []string
	nginx   []string
}

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	files, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no examples found")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".hcl")
		loader := topology.NewLoader()
		topo, diags := loader.LoadFile(f)
		require.False(t, diags.HasErrors(), "%s: %s", f, diags.Error())
		lines, ok := exampleLines[name]
		require.True(t, ok, "example %s has no expected lines in exampleLines", name)
		cases = append(cases, goldenCase{name: name, topo: topo, haproxy: lines.haproxy, nginx: lines.nginx})
	}
	for _, c := range goCases {
		cases = append(cases, goldenCase{name: c.name, topo: c.topo(), haproxy: c.haproxy, nginx: c.nginx})
	}
	seen := map[string]bool{}
	for _, c := range cases {
		require.False(t, seen[c.name], "two golden cases are named %s", c.name)
		seen[c.name] = true
	}
	return cases
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			arts, err := Generate(c.topo, Options{})
			require.NoError(t, err)
			require.Len(t, arts, 2)
			for _, a := range arts {
				path := filepath.Join(goldenDir, c.name, a.Name)
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, a.Bytes, 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test ./generator -update to create the golden files")
				if string(want) != string(a.Bytes) {
					diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
						A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(a.Bytes)),
						FromFile: path, ToFile: "generated", Context: 2,
					})
					t.Fatalf("%s differs from the golden file; review and run go test ./generator -update:\n%s", path, diff)
				}

				lines := c.haproxy
				if a.Kind == proxybin.Nginx {
					lines = c.nginx
				}
				for _, l := range lines {
					if !strings.Contains(string(a.Bytes), l) {
						t.Errorf("%s/%s lacks the line %q", c.name, a.Name, l)
					}
				}
			}
		})
	}
}

// TestGoldenPassesProxyChecks runs haproxy -c and nginx -t on every golden
// file (with certificate paths pointed at a generated self-signed pair), on
// every supported version of each proxy that the case targets: a case
// written for NGINX 1.29.6 (sticky cookie) runs on 1.30 only, one for 2.4
// on 2.6, 3.0 and 3.2.
func TestGoldenPassesProxyChecks(t *testing.T) {
	cases := goldenCases(t)
	testutil.EachProxyVersion(t, func(t *testing.T, bin proxybin.Binary) {
		text := map[string][]byte{}
		for _, c := range cases {
			b, err := os.ReadFile(filepath.Join(goldenDir, c.name, FileName(bin.Kind)))
			require.NoError(t, err)
			text[c.name] = b
		}
		for _, c := range cases {
			target := targetOf(c.topo, bin.Kind)
			if !bin.Version.AtLeast(target.Major, target.Minor, target.Patch) {
				continue // written for a later version; runs on that one
			}
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				checkConfig(t, bin, c.topo, text[c.name])
			})
		}
	})
}

// Every golden case runs on at least one supported version: none is
// written for a version no test has.
func TestGoldenCasesHaveASupportedVersion(t *testing.T) {
	for _, c := range goldenCases(t) {
		for _, kind := range proxybin.Kinds {
			target := targetOf(c.topo, kind)
			ok := false
			for _, v := range testutil.SupportedVersions[kind] {
				sv, err := topology.ParseVersion(v)
				require.NoError(t, err)
				// A MAJOR.MINOR stands for its latest patch release.
				sv.Patch = 1 << 20
				ok = ok || sv.AtLeast(target.Major, target.Minor, target.Patch)
			}
			require.True(t, ok, "%s targets %s %v, newer than every supported version %v", c.name, kind, target, testutil.SupportedVersions[kind])
		}
	}
}

func targetOf(t *topology.Topology, kind proxybin.Kind) topology.Version {
	return t.Targets.Version(string(kind))
}

// checkConfig runs the proxy's own check on text. Certificate and key paths
// of the topology's TLS listeners are replaced by a generated pair placed
// beside the config (a proxy of a cached root filesystem sees nothing else
// of this machine).
func checkConfig(t testing.TB, bin proxybin.Binary, topo *topology.Topology, text []byte) {
	t.Helper()
	s := string(text)
	var extra map[string][]byte
	for _, l := range topo.Listeners {
		if l.TLS == nil {
			continue
		}
		const certPath = "cert.pem" // beside the config: HAProxy's working dir, NGINX's conf prefix
		extra = map[string][]byte{certPath: selfSigned(t)}
		if l.TLS.Key != "" {
			s = strings.ReplaceAll(s, l.TLS.Key, certPath)
		}
		s = strings.ReplaceAll(s, l.TLS.Certificate, certPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := bin.CheckText(ctx, []byte(s), extra)
	require.NoError(t, err, "%s %s rejected the config:\n%s", bin.Kind, bin.Version, numbered(s))
}

func numbered(s string) string {
	var b strings.Builder
	for i, l := range strings.Split(s, "\n") {
		b.WriteString(strings.Repeat(" ", 4-len(itoa(i+1))) + itoa(i+1) + "  " + l + "\n")
	}
	return b.String()
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

var (
	certOnce sync.Once
	certPEM  []byte
	certErr  error
)

// selfSigned returns a PEM file holding a self-signed certificate for
// localhost followed by its key (the layout HAProxy's crt expects; NGINX
// reads the key from the same file).
func selfSigned(t testing.TB) []byte {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "localhost"},
			DNSNames:     []string{"localhost"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			certErr = err
			return
		}
		certPEM = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...)
	})
	require.NoError(t, certErr)
	return certPEM
}

// TestEdgeTopologiesPassProxyChecks covers shapes the loader may allow but
// no golden case has.
func TestEdgeTopologiesPassProxyChecks(t *testing.T) {
	tests := map[string]func(*topology.Topology){
		"no routes": func(t *topology.Topology) { t.Routes = nil },
		"only backup servers in a hashed pool": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityHeader, Header: "X-K", Consistent: true}
			for _, s := range t.Pools[0].Servers {
				s.Backup = true
			}
		},
		"only backup servers in a cookie pool": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityCookie, Cookie: "k"}
			for _, s := range t.Pools[0].Servers {
				s.Backup = true
			}
		},
		"single-server cookie pool": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityCookie, Cookie: "k"}
			t.Pools[0].Servers = t.Pools[0].Servers[:1]
		},
		"health checks off": func(t *topology.Topology) {
			for _, p := range t.Pools {
				p.Health.Enabled = false
			}
		},
		"names that differ in case and punctuation": func(t *topology.Topology) {
			t.Pools[1].Name = "Realtime"
			t.Routes[1].Pool = "Realtime"
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityCookie, Cookie: "k"}
			t.Pools[0].Servers[1].Name = "RT1"
			t.Pools[0].Servers[2].Name = "rt.1"
		},
		// HAProxy reads at most 64 words on a line: long lists are split.
		"a hundred allowed origins": func(t *topology.Topology) {
			for i := range 100 {
				t.Security.AllowedOrigins = append(t.Security.AllowedOrigins, "https://app"+itoa(i)+".example.test")
			}
		},
		"a hundred trusted proxies": func(t *topology.Topology) {
			t.Pools[0].Affinity.ClientIPHeader = "X-Forwarded-For"
			for i := range 100 {
				t.Pools[0].Affinity.TrustedProxies = append(t.Pools[0].Affinity.TrustedProxies, "10.0."+itoa(i)+".0/24")
			}
		},
		"every route websocket-only": func(t *topology.Topology) {
			for _, r := range t.Routes {
				r.WebSocketOnly = true
			}
		},
		"a host route on two listeners": func(t *topology.Topology) {
			t.Listeners = append(t.Listeners, &topology.Listener{Name: "second", Address: topology.Address{Host: "127.0.0.1", Port: 8081}})
			t.Routes = append([]*topology.Route{{Name: "h", Host: "a.example", PathPrefix: "/ws", Pool: "web"}}, t.Routes...)
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			topo := baseTopology("edge", topology.Affinity{Mode: topology.AffinitySource, Consistent: true})
			mutate(topo)
			arts, err := Generate(topo, Options{IdentityHeader: "X-Served-By"})
			require.NoError(t, err)
			for _, a := range arts {
				checkConfig(t, testutil.NeedProxy(t, a.Kind), topo, a.Bytes)
			}
		})
	}
}
