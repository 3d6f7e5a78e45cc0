package rules

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/topology"
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
		got[n.Label()] = why.String()
	}
	require.Len(t, got, 3, "%v", got)
	require.Contains(t, got["location @ws"], "sent here from location /chat")
	require.Equal(t, "it sets proxy_set_header Connection on line 15", got["location /own"])
	require.Equal(t, "the enclosing http sets proxy_set_header Upgrade on line 5", got["location /dropped"])
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

// The reader's signs: a catch-all location that only passes Upgrade on is
// generic; a path that long-polls, and an upstream plain locations share,
// are recorded; a server_name alone is not a sign.
func TestNginxDetectionSigns(t *testing.T) {
	c := nginxConfig(t, `events {}
http {
    upstream app { server 127.0.0.1:1; server 127.0.0.1:2; }
    upstream mq { server 127.0.0.1:3; server 127.0.0.1:4; }
    server {
        listen 80;
        location / { proxy_pass http://app; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; }
        location /socket.io/ { proxy_pass http://app; }
        location /mqtt { proxy_pass http://mq; proxy_http_version 1.1; }
    }
    server {
        listen 80;
        server_name ws.example.com;
        location /feed { proxy_pass http://127.0.0.1:9; }
    }
}
`)
	w := DetectNginxWebSockets(c, false)
	got := map[string]Why{}
	for n, why := range w.Locations {
		got[n.Label()] = why
	}
	require.True(t, got["location /"].Generic)
	require.NotEmpty(t, got["location /"].Polling)
	require.False(t, got["location /socket.io/"].Generic)
	require.Contains(t, got["location /socket.io/"].Polling, "long-polling")
	require.Empty(t, got["location /mqtt"].Polling, "MQTT over WebSocket never long-polls")
	_, feed := got["location /feed"]
	require.False(t, feed, "a host name alone (ws. may be SOAP web services) is not a sign")
	up := map[string]Why{}
	for n, why := range w.Upstreams {
		up[n.Arg(0)] = why
	}
	require.False(t, up["app"].Generic, "/socket.io/ is a real WebSocket route to app")
	require.NotEmpty(t, up["app"].Polling)
	require.Empty(t, up["mq"].Polling)
}

func TestHAProxyDetectionSigns(t *testing.T) {
	c := haproxy.Parse("h.cfg", []byte(`defaults
    mode http
frontend fe
    bind :80
    acl upg hdr(upgrade) -i websocket
    acl rt hdr_beg(host) -i ws.
    use_backend pure if upg
    use_backend hosted if rt
    default_backend web
frontend tunnelled
    bind :81
    timeout tunnel 1h
    default_backend feed
backend pure
backend hosted
backend web
    timeout tunnel 30m
backend feed
listen stats
    bind :9000
    acl upg hdr(upgrade) -i websocket
    stats enable
`))
	w := DetectHAProxyWebSockets(c, false)
	got := map[string]Why{}
	for s, why := range w.Backends {
		got[s.Name] = why
	}
	require.Len(t, got, 4, "%v", got)
	require.Empty(t, got["pure"].Polling, "selected by the Upgrade header only")
	require.Equal(t, "it is selected by a Host ACL (ws.) in frontend fe on line 8", got["hosted"].String())
	require.NotEmpty(t, got["hosted"].Polling)
	require.Equal(t, "timeout tunnel is set on line 17", got["web"].String())
	require.Contains(t, got["web"].Polling, "default_backend web in frontend fe")
	require.Equal(t, "frontend tunnelled sets timeout tunnel and routes here on line 12", got["feed"].String())
}

// The named location that location /'s try_files falls back to takes
// every request, like location / itself.
func TestTryFilesFallbackIsCatchAll(t *testing.T) {
	c := nginxConfig(t, `events {}
http {
    server {
        listen 80;
        location / { try_files $uri @app; }
        location @app { proxy_pass http://127.0.0.1:3000; proxy_set_header Upgrade $http_upgrade; }
        location @other { proxy_pass http://127.0.0.1:3001; proxy_set_header Upgrade $http_upgrade; }
    }
}
`)
	w := DetectNginxWebSockets(c, false)
	got := map[string]Why{}
	for n, why := range w.Locations {
		got[n.Label()] = why
	}
	require.True(t, got["location @app"].Generic)
	require.False(t, got["location @other"].Generic)
}

// An upstream that several WebSocket locations proxy to names the first of
// them in file order, the same on every run.
func TestNginxUpstreamReasonIsStable(t *testing.T) {
	c := nginxConfig(t, `events {}
http {
    upstream app { server 127.0.0.1:1; }
    server {
        listen 80;
        location /a/ws { proxy_pass http://app; }
        location /b/ws { proxy_pass http://app; }
        location /c/ws { proxy_pass http://app; }
        location /d/ws { proxy_pass http://app; }
    }
}
`)
	for range 20 {
		w := DetectNginxWebSockets(c, false)
		require.Len(t, w.Upstreams, 1)
		for _, why := range w.Upstreams {
			require.Equal(t, "the WebSocket location /a/ws proxies to it on line 6", why.String())
		}
	}
}

// A path ACL that lists a plain WebSocket path first and a Socket.IO path
// after it still sends long-polls to the backend: the polling path
// decides, not the one the reason quotes.
func TestHAProxyLongPollFromAnyPathOfTheACL(t *testing.T) {
	c := haproxy.Parse("h.cfg", []byte(`defaults
    mode http
frontend fe
    bind :80
    acl ws path_beg /ws /socket.io
    acl cable path_beg /ws /cable
    use_backend io if ws
    use_backend ac if cable
backend io
backend ac
`))
	w := DetectHAProxyWebSockets(c, false)
	got := map[string]Why{}
	for s, why := range w.Backends {
		got[s.Name] = why
	}
	require.True(t, got["io"].LongPoll, "%+v", got["io"])
	require.Contains(t, got["io"].Polling, "/socket.io")
	require.False(t, got["ac"].LongPoll, "Action Cable never long-polls")
	require.Contains(t, got["ac"].Polling, "/cable")
}
