package rewrite_test

import (
	_ "github.com/wslb/wslb/proxy/all"
	"github.com/wslb/wslb/proxy/rewrite"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/topology"
)

// TestGeneratedNginxConfigsDetectTheirPool loads what `wslb generate`
// writes for each example as an existing config: the WebSocket pool, path
// and affinity must be the topology's, whichever way the generated config
// routes handshakes (an Upgrade map and a named location, a map choosing
// one upstream per cookie value, a location that turns plain requests
// away).
func TestGeneratedNginxConfigsDetectTheirPool(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		example, pool, path string
		affinity            rewrite.Affinity
		servers             []wantServer
	}{
		{"chat", "wslb_realtime", "/ws", rewrite.Affinity{Mode: topology.AffinitySource, Consistent: true},
			[]wantServer{{"ws1", 1, false}, {"ws2", 1, false}, {"ws3", 1, false}}},
		{"cookie", "wslb_app", "/", rewrite.Affinity{Mode: topology.AffinityCookie, Key: "WSLB_SRV"},
			[]wantServer{{"app1", 1, false}, {"app2", 1, false}, {"app3", 2, false}, {"spare", 1, true}}},
		{"session-key", "wslb_rooms", "/play", rewrite.Affinity{Mode: topology.AffinityQuery, Key: "room", Consistent: true}, nil},
		{"socketio", "wslb_socketio", "/socket.io/", rewrite.Affinity{Mode: topology.AffinityCookie, Key: "io_srv"}, nil},
	} {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			topo, diags := topology.NewLoader().LoadFile(filepath.Join("..", "..", "examples", tc.example+".hcl"))
			require.False(t, diags.HasErrors(), "%v", diags)
			arts, err := generator.Generate(topo, generator.Options{Kinds: []proxybin.Kind{proxybin.Nginx}})
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), arts[0].Name)
			require.NoError(t, os.WriteFile(path, arts[0].Bytes, 0o644))

			c, err := rewrite.Load(path)
			require.NoError(t, err)
			t.Logf("notes: %q", c.Notes)
			require.Equal(t, tc.pool, c.Pool)
			require.Equal(t, tc.path, c.Path)
			require.Equal(t, tc.affinity, c.Affinity)
			origins := topo.Security.AllowedOrigins
			if len(origins) > 0 {
				require.Contains(t, origins, c.AllowedOrigin)
			} else {
				require.Empty(t, c.AllowedOrigin)
			}
			if tc.servers != nil {
				var got []wantServer
				for _, s := range c.WebSocketServers() {
					got = append(got, wantServer{s.ID, s.Weight, s.Backup})
				}
				require.Equal(t, tc.servers, got)
			}
		})
	}
}

// TestGeneratedHAProxyConfigsFindTheirOrigin checks that the Origin
// allowlist of generated HAProxy configs is found, so verify's clients are
// let in.
func TestGeneratedHAProxyConfigsFindTheirOrigin(t *testing.T) {
	t.Parallel()
	examples, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.hcl"))
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, path := range examples {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			topo, diags := topology.NewLoader().LoadFile(path)
			require.False(t, diags.HasErrors(), "%v", diags)
			arts, err := generator.Generate(topo, generator.Options{Kinds: []proxybin.Kind{proxybin.HAProxy}})
			require.NoError(t, err)
			cfg := filepath.Join(t.TempDir(), arts[0].Name)
			require.NoError(t, os.WriteFile(cfg, arts[0].Bytes, 0o644))
			c, err := rewrite.Load(cfg)
			require.NoError(t, err)
			if origins := topo.Security.AllowedOrigins; len(origins) > 0 {
				require.Contains(t, origins, c.AllowedOrigin)
			} else {
				require.Empty(t, c.AllowedOrigin)
			}
		})
	}
}

// TestMapsNamingServersPointAtLocalBackends renders a config whose map
// names servers by $upstream_addr (as generated cookie affinity does): the
// rewritten map must name the local backends, longer addresses first.
func TestMapsNamingServersPointAtLocalBackends(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "nginx.conf")
	require.NoError(t, os.WriteFile(src, []byte(`events {}
http {
    map $upstream_addr $srv {
        volatile;
        default "";
        "~(^|\s)10\.0\.0\.1:80$" a;
        10.0.0.1:8080 b;
    }
    upstream u {
        server 10.0.0.1:80;
        server 10.0.0.1:8080;
    }
    server {
        listen 80;
        location / {
            proxy_set_header Upgrade $http_upgrade;
            add_header X-Srv $srv;
            proxy_pass http://u;
        }
    }
}
`), 0o644))
	c, err := rewrite.Load(src)
	require.NoError(t, err)
	res, err := c.Render(rewrite.Local{Dir: t.TempDir(), Backends: map[string]string{"u-1": "127.0.0.1:1001", "u-2": "127.0.0.1:1002"},
		ListenAddrs: zeroAddrs})
	require.NoError(t, err)
	text := string(res.Config)
	require.Contains(t, text, `(^|\s)127\.0\.0\.1:1001$`)
	require.Contains(t, text, "127.0.0.1:1002 b;")
	require.NotContains(t, text, "10.0.0.1")
	require.NotContains(t, text, `10\.0`)
}
