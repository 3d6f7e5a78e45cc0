package rules

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate/haproxy"
	"github.com/wslb/wslb/validate/nginx"
)

func TestWebSocketNames(t *testing.T) {
	for name, want := range map[string]bool{
		"ws": true, "be_ws": true, "ws2": true, "ws_pool": true, "websocket": true, "bk_websockets": true,
		"socket.io": true, "socket_io": true, "sockjs-nodes": true, "action_cable": true, "signalr": true,
		"news": false, "wsgi": false, "web": false, "nodes": false, "awsome": false, "socket": false,
	} {
		require.Equal(t, want, isWebSocketName(name), name)
	}
}

func TestWebSocketPaths(t *testing.T) {
	for path, want := range map[string]bool{
		"/ws": true, "/ws/": true, "= /ws": true, "^~ /socket.io/": true, "/api/ws": true, "/cable": true,
		"/hubs/chat": true, "/live/websocket": true, "/graphql-ws": true,
		"/": false, "/api/": false, "/news": false, "/live": false, "/socket": false, "/wsdl": false,
	} {
		require.Equal(t, want, isWebSocketPath(path), path)
	}
}

func nginxConfig(t *testing.T, text string) *nginx.Config {
	t.Helper()
	c := nginx.Parse("n.conf", func(p string) ([]byte, error) {
		if p == "n.conf" {
			return []byte(text), nil
		}
		return nil, fs.ErrNotExist
	})
	require.Empty(t, c.Problems)
	return c
}

func TestNginxDetection(t *testing.T) {
	c := nginxConfig(t, `events {}
http {
    upstream web { server 127.0.0.1:1; }
    upstream rt { server 127.0.0.1:2; }
    proxy_set_header Upgrade $http_upgrade;
    server {
        listen 80;
        location / { proxy_pass http://web; }
        location /chat {
            error_page 418 = @ws;
            if ($is_websocket) { return 418; }
            proxy_pass http://web;
        }
        location @ws { proxy_pass http://rt; }
        location /own { proxy_pass http://web; proxy_set_header Connection $connection_upgrade; }
        location /dropped { proxy_pass http://web; proxy_set_header X-Real-IP $remote_addr; }
    }
}
stream { server { listen 9000; proxy_pass 127.0.0.1:9; } }
`)
	w := DetectNginxWebSockets(c, false)
	got := map[string]string{}
	for n, why := range w.Locations {
		got[n.Label()] = why
	}
	require.Len(t, got, 3, "%v", got)
	require.Contains(t, got["location @ws"], "sent here from location /chat")
	require.Contains(t, got["location /own"], "forwards")
	require.Contains(t, got["location /dropped"], "enclosing block")
	require.Len(t, w.Upstreams, 2, "rt via @ws, web via /own and /dropped")

	all := DetectNginxWebSockets(c, true)
	require.Len(t, all.Locations, 5, "all http proxying blocks, never stream")
}

func TestHAProxyDetection(t *testing.T) {
	c := haproxy.Parse("h.cfg", []byte(`defaults
    mode http
frontend fe
    bind :80
    acl upg hdr(upgrade) -i websocket
    acl sio path_beg /socket.io/
    use_backend a if upg
    use_backend b if { path_beg /cable }
    use_backend c if sio
    use_backend d if !upg
    default_backend e
frontend other
    bind :81
    default_backend c
backend a
backend b
backend c
backend d
backend e
backend ws_named
`))
	w := DetectHAProxyWebSockets(c, false)
	var names []string
	for s := range w.Backends {
		names = append(names, s.Name)
	}
	require.ElementsMatch(t, []string{"a", "b", "c", "ws_named"}, names)
	var fronts []string
	for s := range w.Frontends {
		fronts = append(fronts, s.Name)
	}
	require.ElementsMatch(t, []string{"fe", "other"}, fronts, "other routes to a WebSocket backend")
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
