package topology_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/topology"
)

// The examples are the product's showcase: they must load without a single
// diagnostic.
func TestExamplesLoadCleanly(t *testing.T) {
	files, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			l := topology.NewLoader()
			topo, diags := l.LoadFile(f)
			require.Empty(t, diags, "%s", diags)
			require.NotNil(t, topo)
			require.NotEmpty(t, topo.Listeners)
			require.NotEmpty(t, topo.Routes)
			require.NotEmpty(t, topo.Pools)
		})
	}
}

func loadExample(t *testing.T, name string) *topology.Topology {
	t.Helper()
	topo, diags := topology.NewLoader().LoadFile(filepath.Join("..", "examples", name))
	require.Empty(t, diags, "%s", diags)
	return topo
}

// The examples show what their comments promise.
func TestExamplesContent(t *testing.T) {
	t.Run("chat", func(t *testing.T) {
		topo := loadExample(t, "chat.hcl")
		rt, web := topo.Pool("realtime"), topo.Pool("web")
		require.NotNil(t, rt)
		require.NotNil(t, web)
		require.Equal(t, topology.AffinitySource, rt.Affinity.Mode)
		require.True(t, rt.Affinity.Consistent)
		require.Len(t, rt.Servers, 3)
		require.True(t, rt.WebSocket)
		require.Equal(t, topology.AffinityNone, web.Affinity.Mode)
		require.Len(t, web.Servers, 2)
		require.False(t, web.WebSocket)
		require.Equal(t, "/ws", topo.Routes[0].PathPrefix)
		require.True(t, topo.Routes[0].WebSocketOnly)
		require.Equal(t, "realtime", topo.Routes[0].Pool)
		require.Equal(t, "web", topo.Routes[1].Pool)
	})
	t.Run("fanout", func(t *testing.T) {
		topo := loadExample(t, "fanout.hcl")
		rt := topo.Pool("realtime")
		require.NotNil(t, rt)
		require.Equal(t, topology.AffinityNone, rt.Affinity.Mode)
		require.Len(t, rt.Servers, 3)
		require.True(t, rt.WebSocket)
		require.NotNil(t, rt.Broker)
		require.Equal(t, broker.Redis, rt.Broker.Kind)
		require.Equal(t, "redis://10.0.0.5:6379", rt.Broker.URL)
		require.Equal(t, "chat", rt.Broker.Channel)
		require.Equal(t, "room", rt.Broker.RoomKey)
		require.True(t, topo.Routes[0].WebSocketOnly)
		require.Nil(t, topo.Pool("web").Broker)
	})
	t.Run("cookie", func(t *testing.T) {
		p := loadExample(t, "cookie.hcl").Pools[0]
		require.Equal(t, topology.AffinityCookie, p.Affinity.Mode)
		require.NotEmpty(t, p.Affinity.Cookie)
		require.True(t, p.WebSocket)
	})
	t.Run("socketio", func(t *testing.T) {
		topo := loadExample(t, "socketio.hcl")
		p := topo.Pool(topo.Routes[0].Pool)
		require.Equal(t, "/socket.io/", topo.Routes[0].PathPrefix)
		require.False(t, topo.Routes[0].WebSocketOnly, "polling must match the route too")
		require.NotEqual(t, topology.AffinityNone, p.Affinity.Mode)
		require.True(t, p.WebSocket)
	})
	t.Run("session-key", func(t *testing.T) {
		topo := loadExample(t, "session-key.hcl")
		modes := map[topology.AffinityMode]*topology.Pool{}
		for _, p := range topo.Pools {
			modes[p.Affinity.Mode] = p
		}
		require.Contains(t, modes, topology.AffinityQuery)
		require.Contains(t, modes, topology.AffinityHeader)
		require.NotEmpty(t, modes[topology.AffinityQuery].Affinity.Param)
		require.NotEmpty(t, modes[topology.AffinityHeader].Affinity.Header)
	})
}

func BenchmarkLoadChat(b *testing.B) {
	src, err := os.ReadFile("../examples/chat.hcl")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := topology.NewLoader().Load("chat.hcl", src); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
