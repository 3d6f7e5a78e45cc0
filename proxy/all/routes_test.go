package all

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/proxy/rewrite"
)

// routeDisagreements are the configs on which verify's rewrite tests
// another route than the first one the proxy package's detector says
// carries WebSockets: config → "the rewrite's route | the detector's
// routes", each "pool (file:line)". The two still choose apart; this list
// keeps every difference in sight, and the test fails when one appears,
// goes away or changes.
var routeDisagreements = map[string]string{
	// The rewrite takes location / for forwarding the server's Upgrade
	// headers; the detector leaves a location that only inherits them
	// alone and finds /connection/websocket.
	"../../testdata/corpus/centrifugo-nginx.conf": "127.0.0.1:8080 (centrifugo-nginx.conf:28) | centrifugo (centrifugo-nginx.conf:32), 127.0.0.1:9000 (centrifugo-nginx.conf:41), 127.0.0.1:8090 (centrifugo-nginx.conf:53)",
	// /hubs/ (SignalR) is a WebSocket path to the detector, not to the
	// rewrite, which falls back to the default backend.
	"../../testdata/corpus/signalr-haproxy-hubs.cfg": "be_api (signalr-haproxy-hubs.cfg:26) | be_hubs (signalr-haproxy-hubs.cfg:32)",
	// The rewrite ranks a frontend's default_backend above a listen
	// section; the detector goes by the listen section's name and tunnel.
	"../../testdata/rules/WSLB201/pass_last_defaults.cfg": "static (pass_last_defaults.cfg:12) | websocket (pass_last_defaults.cfg:22)",
	// Both see ws; the detector also counts app for its timeout tunnel,
	// which comes first in the file.
	"../../testdata/rules/WSLB213/pass_long.cfg": "ws (pass_long.cfg:18) | app (pass_long.cfg:14), ws (pass_long.cfg:18)",
	// The detector counts /api/, whose own proxy_set_header drops the
	// server's Upgrade header (WSLB101), as meant for WebSockets; the
	// rewrite tests location /, which does forward it.
	"../rewrite/testdata/nginx-cookie-sid.conf": "app (nginx-cookie-sid.conf:32) | api (nginx-cookie-sid.conf:27)",
}

// route is a pool and the block that sends to it: the HAProxy backend or
// listen section, the NGINX location holding the proxy_pass.
type route struct {
	pool string // "" when a variable names it (NGINX map or set)
	at   string // file:line
}

func (r route) String() string { return r.pool + " (" + r.at + ")" }

// same reports whether two routes reach the same pool, or are the same
// block when a variable hides the pool from the detector.
func (r route) same(o route) bool { return r.at == o.at || r.pool != "" && r.pool == o.pool }

// TestRewriteRouteAgreesWithDetector runs verify's existing-config
// rewrite and the proxy package's WebSocket route detector over every
// config in testdata: where the detector finds WebSocket routes, the
// rewrite must test the first of them in file order.
func TestRewriteRouteAgreesWithDetector(t *testing.T) {
	got := map[string]string{}
	checked := 0
	for _, root := range []string{"../../testdata", "../rewrite/testdata"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".cfg") && !strings.HasSuffix(p, ".conf") {
				return err
			}
			c, err := rewrite.LoadWith(p, rewrite.Options{AllowCode: true})
			if err != nil {
				return nil // not a config verify can run; nothing to agree on
			}
			detected := detectedRoutes(t, c.Kind, p)
			if len(detected) == 0 {
				return nil // no WebSocket route: verify tests the default one
			}
			checked++
			chosen := route{pool: c.Pool, at: fmt.Sprintf("%s:%d", filepath.Base(c.Route.File), c.Route.Line)}
			if !chosen.same(detected[0]) {
				var ds []string
				for _, r := range detected {
					ds = append(ds, r.String())
				}
				got[filepath.ToSlash(p)] = chosen.String() + " | " + strings.Join(ds, ", ")
			}
			return nil
		})
		require.NoError(t, err)
	}
	t.Logf("%d configs with WebSocket routes, %d where the two disagree", checked, len(got))
	require.Greater(t, checked, 100, "the configs in testdata were not found")
	require.Equal(t, routeDisagreements, got)
}

// detectedRoutes lists, in file order, the routes the detector says
// carry WebSockets.
func detectedRoutes(t *testing.T, kind proxybin.Kind, path string) []route {
	t.Helper()
	var out []route
	if kind == proxybin.HAProxy {
		text, err := os.ReadFile(path)
		require.NoError(t, err)
		c := haproxy.Parse(path, text)
		w := haproxy.DetectWebSockets(c, false)
		for _, s := range c.Proxies() {
			if w.Serves(s) {
				out = append(out, route{pool: s.Name, at: fmt.Sprintf("%s:%d", filepath.Base(path), s.Line)})
			}
		}
		return out
	}
	c := nginx.Parse(path, nginx.DiskOpener)
	w := nginx.DetectWebSockets(c, false)
	for _, blk := range nginx.SortedNodes(w.Locations) {
		r := route{at: fmt.Sprintf("%s:%d", filepath.Base(blk.File), blk.Line)}
		if pp := blk.EffectiveOne("proxy_pass"); pp != nil && !strings.Contains(pp.Arg(0), "$") {
			// The rewrite names an upstream by name, an address with its port.
			if r.pool = nginx.UpstreamName(pp.Arg(0)); c.Upstream(r.pool) == nil {
				r.pool = nginx.ProxyAuthority(pp.Arg(0))
			}
		}
		out = append(out, r)
	}
	return out
}
