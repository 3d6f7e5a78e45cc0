package all

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/proxy/rewrite"
)

// routeDisagreements are the configs on which verify's rewrite tests a
// route the proxy package's detector does not say carries WebSockets:
// config → "the rewrite's route | the detector's routes", each "pool
// (file:line)". The rewrite picks among the detector's routes whenever
// the proxy forwards the handshake on one of them; this list keeps every
// exception in sight, and the test fails when one appears, goes away or
// changes.
var routeDisagreements = map[string]string{
	// The detector counts /api/, whose own proxy_set_header drops the
	// server's Upgrade header (WSLB101), as meant for WebSockets. nginx
	// does not forward the handshake there (a request to /api/ reaches
	// the server with no Upgrade header and "Connection: close"), so the
	// rewrite tests location /, which forwards it.
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
// rewrite must test one of them.
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
			if !slices.ContainsFunc(detected, chosen.same) {
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
