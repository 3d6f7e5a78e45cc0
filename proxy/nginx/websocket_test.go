package nginx

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wslb/wslb/proxy"
)

func parseNginx(t *testing.T, text string) *Config {
	t.Helper()
	c := Parse("n.conf", func(p string) ([]byte, error) {
		if p == "n.conf" {
			return []byte(text), nil
		}
		return nil, fs.ErrNotExist
	})
	require.Empty(t, c.Problems)
	return c
}

func TestNginxDetection(t *testing.T) {
	c := parseNginx(t, `events {}
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
	w := DetectWebSockets(c, false)
	got := map[string]string{}
	for n, why := range w.Locations {
		got[n.Label()] = why.String()
	}
	require.Len(t, got, 3, "%v", got)
	require.Contains(t, got["location @ws"], "sent here from location /chat")
	require.Equal(t, "it sets proxy_set_header Connection on line 15", got["location /own"])
	require.Equal(t, "the enclosing http sets proxy_set_header Upgrade on line 5", got["location /dropped"])
	require.Len(t, w.Upstreams, 2, "rt via @ws, web via /own and /dropped")

	all := DetectWebSockets(c, true)
	require.Len(t, all.Locations, 5, "all http proxying blocks, never stream")
}

// The reader's signs: a catch-all location that only passes Upgrade on is
// generic; a path that long-polls, and an upstream plain locations share,
// are recorded; a server_name alone is not a sign.
func TestNginxDetectionSigns(t *testing.T) {
	c := parseNginx(t, `events {}
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
	w := DetectWebSockets(c, false)
	got := map[string]proxy.Why{}
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
	up := map[string]proxy.Why{}
	for n, why := range w.Upstreams {
		up[n.Arg(0)] = why
	}
	require.False(t, up["app"].Generic, "/socket.io/ is a real WebSocket route to app")
	require.NotEmpty(t, up["app"].Polling)
	require.Empty(t, up["mq"].Polling)
}

// The named location that location /'s try_files falls back to takes
// every request, like location / itself.
func TestTryFilesFallbackIsCatchAll(t *testing.T) {
	c := parseNginx(t, `events {}
http {
    server {
        listen 80;
        location / { try_files $uri @app; }
        location @app { proxy_pass http://127.0.0.1:3000; proxy_set_header Upgrade $http_upgrade; }
        location @other { proxy_pass http://127.0.0.1:3001; proxy_set_header Upgrade $http_upgrade; }
    }
}
`)
	w := DetectWebSockets(c, false)
	got := map[string]proxy.Why{}
	for n, why := range w.Locations {
		got[n.Label()] = why
	}
	require.True(t, got["location @app"].Generic)
	require.False(t, got["location @other"].Generic)
}

// An upstream that several WebSocket locations proxy to names the first of
// them in file order, the same on every run.
func TestNginxUpstreamReasonIsStable(t *testing.T) {
	c := parseNginx(t, `events {}
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
		w := DetectWebSockets(c, false)
		require.Len(t, w.Upstreams, 1)
		for _, why := range w.Upstreams {
			require.Equal(t, "the WebSocket location /a/ws proxies to it on line 6", why.String())
		}
	}
}
