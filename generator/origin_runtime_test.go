package generator

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

// handshake sends a WebSocket handshake with the given raw Origin header
// lines (none for an empty slice) and returns the status code and the
// Origin lines the server saw.
// The request is written by hand: HTTP clients merge or reorder repeated
// headers, and the test needs them exactly as an attacker would send them.
func handshake(t *testing.T, addr string, origins []string) (status int, seen string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	for _, o := range origins {
		req += "Origin: " + o + "\r\n"
	}
	_, err = c.Write([]byte(req + "\r\n"))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Origins")
}

// TestRuntimeOriginAllowlist checks on every supported version of both
// real proxies that a handshake gets through only with exactly one Origin
// header whose whole value is allowed: a comma list naming an allowed
// Origin, or a second header, must not talk either proxy past the check.
func TestRuntimeOriginAllowlist(t *testing.T) {
	testutil.EachProxyVersion(t, func(t *testing.T, bin proxybin.Binary) {
		kind := bin.Kind
		origins := startOriginBackend(t)
		port, err := loopback.FreePort()
		require.NoError(t, err)
		topo := cookieTopology(port, []*backend{origins})
		topo.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityNone, Consistent: true}
		topo.Pools[0].WebSocket = true
		topo.Security.AllowedOrigins = []string{"https://app.example.test"}
		topo.Security.AllowMissingOrigin = true
		startProxyOn(t, bin, topo)
		addr := "127.0.0.1:" + strconv.Itoa(port)

		// NGINX before 1.23 reads only the first of several Origin lines; the
		// generated config then passes servers that one checked value alone.
		firstOnly := kind == proxybin.Nginx && !bin.Version.AtLeast(1, 23, 0)

		allowed, evil := "https://app.example.test", "https://evil.test"
		for _, tc := range []struct {
			origins []string
			want    int
		}{
			{[]string{allowed}, http.StatusSwitchingProtocols},
			{nil, http.StatusSwitchingProtocols},
			{[]string{evil}, http.StatusForbidden},
			{[]string{evil + ", " + allowed}, http.StatusForbidden},
			{[]string{allowed + ", " + evil}, http.StatusForbidden},
			{[]string{allowed + "," + allowed}, http.StatusForbidden},
			{[]string{evil, allowed}, http.StatusForbidden},
			{[]string{allowed, evil}, http.StatusForbidden},
			{[]string{allowed, allowed}, http.StatusForbidden},
			{[]string{allowed + ".evil.test"}, http.StatusForbidden},
			{[]string{"HTTPS://APP.EXAMPLE.TEST"}, http.StatusSwitchingProtocols},
			{[]string{"null"}, http.StatusForbidden},
			{[]string{allowed + "/"}, http.StatusForbidden},
			{[]string{allowed + ":443"}, http.StatusForbidden},
			{[]string{evil, ""}, http.StatusForbidden},
			{[]string{"", evil}, http.StatusForbidden},
		} {
			what := fmt.Sprintf("%s %s with Origin lines %q", kind, bin.Version, tc.origins)
			status, seen := handshake(t, addr, tc.origins)
			if len(tc.origins) == 2 && tc.origins[1] == evil {
				t.Logf("%s: %d", what, status) // the two-line cases, per version
			}
			if firstOnly && len(tc.origins) > 1 && tc.origins[0] == "" {
				// The one Origin NGINX 1.22 sees is empty, which counts as
				// none (allow_missing_origin): the server gets no Origin.
				require.Equal(t, http.StatusSwitchingProtocols, status, what)
				require.Empty(t, seen, "%s: the server sees no Origin", what)
				continue
			}
			if firstOnly && len(tc.origins) > 1 && tc.origins[0] == allowed {
				require.Equal(t, http.StatusSwitchingProtocols, status, what)
				require.Equal(t, allowed, seen, "%s: the server sees only the checked Origin", what)
				continue
			}
			require.Equal(t, tc.want, status, what)
			if status == http.StatusSwitchingProtocols {
				require.Equal(t, strings.Join(tc.origins, "|"), seen, what)
			}
		}
	})
}

// startOriginBackend starts a WebSocket server that names, in X-Origins,
// the Origin header lines its handshake carried (joined with "|").
func startOriginBackend(t *testing.T) *backend {
	t.Helper()
	return serveBackend(t, "origins", func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, http.Header{"X-Origins": {strings.Join(r.Header.Values("Origin"), "|")}})
		if err == nil {
			c.Close()
		}
	})
}
