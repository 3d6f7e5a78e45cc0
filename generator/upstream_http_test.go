package generator

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// NGINX 1.29.7 made HTTP/1.1 its default to upstreams, which is why WSLB102
// stops asking for proxy_http_version 1.1 from that target on: without it,
// the handshake reaches the server as HTTP/1.1 through 1.30 and as HTTP/1.0
// through 1.22 and 1.26 (where servers that insist on HTTP/1.1 for an
// upgrade refuse it; this one does not check).
func TestNginxUpstreamHTTPVersionDefault(t *testing.T) {
	testutil.EachVersionOf(t, proxybin.Nginx, func(t *testing.T, bin proxybin.Binary) {
		be := serveBackend(t, "proto", func(w http.ResponseWriter, r *http.Request) {
			c, err := upgrader.Upgrade(w, r, http.Header{"X-Proto": {r.Proto}})
			if err == nil {
				c.Close()
			}
		})
		port, err := loopback.FreePort()
		require.NoError(t, err)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		dir := testutil.ScratchDir(t)
		cfg := filepath.Join(dir, "nginx.conf")
		require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`events {}
http {
    server {
        listen %s;
        location / {
            proxy_pass http://%s;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }
    }
}
`, addr, be.addr)), 0o644))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		px, err := loopback.StartProxy(ctx, loopback.ProxyOptions{Kind: proxybin.Nginx, Binary: bin.Path, Config: cfg, Dir: dir, ReadyAddr: addr})
		require.NoError(t, err)
		defer px.Close()

		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		c, resp, err := d.Dial("ws://"+addr+"/ws", nil)
		require.NoError(t, err, "nginx %s", bin.Version)
		c.Close()
		want := "HTTP/1.0"
		if bin.Version.AtLeast(1, 29, 7) {
			want = "HTTP/1.1"
		}
		require.Equal(t, want, resp.Header.Get("X-Proto"), "nginx %s to the server", bin.Version)
	})
}
