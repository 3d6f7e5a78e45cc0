package rewrite

import (
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
		affinity            Affinity
		servers             []wantServer
	}{
		{"chat", "wslb_realtime", "/ws", Affinity{Mode: topology.AffinitySource, Consistent: true},
			[]wantServer{{"ws1", 1, false}, {"ws2", 1, false}, {"ws3", 1, false}}},
		{"cookie", "wslb_app", "/", Affinity{Mode: topology.AffinityCookie, Key: "WSLB_SRV"},
			[]wantServer{{"app1", 1, false}, {"app2", 1, false}, {"app3", 2, false}, {"spare", 1, true}}},
		{"session-key", "wslb_rooms", "/play", Affinity{Mode: topology.AffinityQuery, Key: "room", Consistent: true}, nil},
		{"socketio", "wslb_socketio", "/socket.io/", Affinity{Mode: topology.AffinityCookie, Key: "io_srv"}, nil},
	} {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			topo, diags := topology.NewLoader().LoadFile(filepath.Join("..", "..", "examples", tc.example+".hcl"))
			require.False(t, diags.HasErrors(), "%v", diags)
			arts, err := generator.Generate(topo, generator.Options{Kinds: []proxybin.Kind{proxybin.Nginx}})
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), arts[0].Name)
			require.NoError(t, os.WriteFile(path, arts[0].Bytes, 0o644))

			c, err := Load(path)
			require.NoError(t, err)
			t.Logf("notes: %q", c.Notes)
			require.Equal(t, tc.pool, c.Pool)
			require.Equal(t, tc.path, c.Path)
			require.Equal(t, tc.affinity, c.Affinity)
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
