package istio_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/topology"
)

// Shapes the loader allows that no golden file has: each must still give
// objects Istio's schemas accept.
func TestEdgeTopologiesPassIstioValidation(t *testing.T) {
	tests := map[string]func(*topology.Topology){
		"no routes": func(t *topology.Topology) { t.Routes = nil },
		"two listeners on one port": func(t *topology.Topology) {
			t.Listeners = append(t.Listeners, &topology.Listener{Name: "second", Address: topology.Address{Host: "127.0.0.2", Port: t.Listeners[0].Address.Port},
				TLS: &topology.TLS{Certificate: "/etc/ssl/x.pem", Profile: topology.TLSIntermediate}})
			t.Routes[0].Listener = "second"
		},
		"names that differ in case and punctuation": func(t *topology.Topology) {
			t.Pools[1].Name = "Realtime"
			t.Routes[1].Pool = "Realtime"
			t.Pools[0].Servers[1].Name = "WS1"
			t.Pools[0].Servers[2].Name = "ws.1"
			t.Routes[0].Name = "Realtime"
		},
		"a hundred allowed origins": func(t *topology.Topology) {
			for i := range 100 {
				t.Security.AllowedOrigins = append(t.Security.AllowedOrigins, "https://app"+strconv.Itoa(i)+".example.test")
			}
		},
		"a thousand heavy servers with huge limits": func(t *topology.Topology) {
			p := t.Pools[0]
			p.Servers = nil
			for i := range 1000 {
				p.Servers = append(p.Servers, &topology.Server{Name: "s" + strconv.Itoa(i), Weight: 256, MaxConns: 1000000,
					Address: topology.Address{Host: "10.9." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1), Port: 8000 + i%3}})
			}
			t.Limits.MaxConns = 1 << 40
		},
		"every affinity mode without consistency": func(t *topology.Topology) {
			t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityHeader, Header: "X-K", Declared: true}
			t.Pools[1].Affinity = topology.Affinity{Mode: topology.AffinityCookie, Cookie: "k", CookieMaxAge: 24 * 24 * 3600e9, Declared: true}
		},
		"one server, health checks off, all but one backup": func(t *topology.Topology) {
			t.Pools[0].Health.Enabled = false
			t.Pools[0].Servers[1].Backup = true
			t.Pools[0].Servers[2].Backup = true
			t.Pools[1].Servers = t.Pools[1].Servers[:1]
		},
		"a websocket-only host route on one listener": func(t *topology.Topology) {
			t.Routes = append([]*topology.Route{{Name: "h", Listener: t.Listeners[0].Name, Host: "a.example", PathPrefix: "/ws/", WebSocketOnly: true, Pool: t.Pools[0].Name}}, t.Routes...)
			t.Security.AllowedOrigins = []string{"https://a.example"}
			t.Security.AllowMissingOrigin = false
		},
	}
	dir := t.TempDir()
	var files []string
	for name, mutate := range tests {
		topo := targettest.Load(t, "../../examples/chat.hcl")
		mutate(topo)
		arts, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{istio.Kind}})
		require.NoError(t, err, name)
		path := filepath.Join(dir, label(name)+".yaml")
		require.NoError(t, os.WriteFile(path, arts[0].Bytes, 0o644))
		files = append(files, path)
	}
	out, err := istiocheck(t, files...)
	require.NoError(t, err, out)
	require.Contains(t, out, ", 0 problems, 0 warnings")
}

func label(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == ' ' || c == ',' {
			b[i] = '-'
		}
	}
	return string(b)
}
