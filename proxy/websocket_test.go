package proxy

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wslb/wslb/topology"
)

func TestWebSocketNames(t *testing.T) {
	for name, want := range map[string]bool{
		"ws": true, "be_ws": true, "ws2": true, "ws_pool": true, "websocket": true, "bk_websockets": true,
		"socket.io": true, "socket_io": true, "sockjs-nodes": true, "action_cable": true, "signalr": true,
		"news": false, "wsgi": false, "web": false, "nodes": false, "awsome": false, "socket": false,
	} {
		require.Equal(t, want, IsWebSocketName(name), name)
	}
}

func TestWebSocketPaths(t *testing.T) {
	for path, want := range map[string]bool{
		"/ws": true, "/ws/": true, "= /ws": true, "^~ /socket.io/": true, "/api/ws": true, "/cable": true,
		"/hubs/chat": true, "/live/websocket": true, "/graphql-ws": true,
		"/": false, "/api/": false, "/news": false, "/live": false, "/socket": false, "/wsdl": false,
	} {
		require.Equal(t, want, IsWebSocketPath(path), path)
	}
}

// A path the linter treats as a WebSocket endpoint must make a topology
// pool a WebSocket pool too, or wslb generate would give it the plain
// HTTP read timeout that WSLB104 then flags in wslb's own output.
func TestWebSocketPathsAgreeWithTopology(t *testing.T) {
	for _, p := range WebSocketPaths {
		require.True(t, topology.IsWebSocketPath(p), p)
		require.True(t, topology.IsWebSocketPath("/api"+p+"/"), p)
	}
}
