package validate

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/topology"
)

// TestCorpus lints configs written in the style of well-known public
// examples (each names its source style in a header comment) and pins
// every finding, info included, as "file:line RULE".
func TestCorpus(t *testing.T) {
	cases := map[string][]string{
		"socketio-docs-nginx.conf": {
			"socketio-docs-nginx.conf:1 WSLB001", // no events section
			"socketio-docs-nginx.conf:1 WSLB107",
			"socketio-docs-nginx.conf:9 WSLB104",
			"socketio-docs-nginx.conf:18 WSLB103",
		},
		"socketio-docs-haproxy.cfg": {
			"socketio-docs-haproxy.cfg:1 WSLB208",
			"socketio-docs-haproxy.cfg:4 WSLB205",
			"socketio-docs-haproxy.cfg:8 WSLB205",
			"socketio-docs-haproxy.cfg:11 WSLB202", // cookie in TCP mode
		},
		"haproxy-blog-websockets.cfg": {
			"haproxy-blog-websockets.cfg:4 WSLB208",
			"haproxy-blog-websockets.cfg:28 WSLB209",
			"haproxy-blog-websockets.cfg:48 WSLB204", // server cookies but no cookie line
		},
		"nginx-blog-websocket-proxy.conf": {
			"nginx-blog-websocket-proxy.conf:1 WSLB001",
			"nginx-blog-websocket-proxy.conf:1 WSLB107",
			"nginx-blog-websocket-proxy.conf:16 WSLB104",
		},
		"digitalocean-nodejs-site.conf": {
			"digitalocean-nodejs-site.conf:8 WSLB104",
			"digitalocean-nodejs-site.conf:12 WSLB103",
		},
		"classic-ip-hash-upgrade.conf": {
			"classic-ip-hash-upgrade.conf:5 WSLB108",
			"classic-ip-hash-upgrade.conf:15 WSLB104",
			"classic-ip-hash-upgrade.conf:17 WSLB103",
		},
		"classic-balance-source-tcp.cfg": {
			"classic-balance-source-tcp.cfg:5 WSLB208",
			"classic-balance-source-tcp.cfg:13 WSLB001", // frontend NAME ADDR:PORT
			"classic-balance-source-tcp.cfg:13 WSLB209",
			"classic-balance-source-tcp.cfg:15 WSLB202", // hdr(Upgrade) without mode http
			"classic-balance-source-tcp.cfg:16 WSLB202",
			"classic-balance-source-tcp.cfg:24 WSLB201",
			"classic-balance-source-tcp.cfg:25 WSLB203",
			"classic-balance-source-tcp.cfg:25 WSLB211",
			"classic-balance-source-tcp.cfg:27 WSLB210", // option forceclose
		},
		"haproxy-modern-tunnel.cfg": {
			"haproxy-modern-tunnel.cfg:27 WSLB204",
		},
		"aspnet-signalr-nginx.conf": {
			"aspnet-signalr-nginx.conf:28 WSLB104",
		},
		"home-assistant-nginx.conf": {
			"home-assistant-nginx.conf:1 WSLB107",
			"home-assistant-nginx.conf:6 WSLB106",
			"home-assistant-nginx.conf:27 WSLB104",
		},
		"production-nginx-clean.conf":  nil,
		"production-haproxy-clean.cfg": nil,
		"include-style": {
			"chat.conf:4 WSLB105",
			"chat.conf:15 WSLB101", // own proxy_set_header drops the server's
			"nginx.conf:10 WSLB106",
		},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srcs, err := Collect([]string{filepath.Join("../testdata/corpus", name)})
			require.NoError(t, err)
			opts := Options{}
			opts.NginxVersion = topology.Version{Major: 1, Minor: 22, Patch: 1}
			res, err := Lint(context.Background(), srcs, opts)
			require.NoError(t, err)
			got := []string{}
			for _, f := range res.Findings {
				got = append(got, fmt.Sprintf("%s:%d %s", filepath.Base(f.File), f.Line, f.Rule))
			}
			if want == nil {
				want = []string{}
			}
			sort.Strings(want)
			sort.Strings(got)
			require.Equal(t, want, got, describe(res))
		})
	}
	files, err := filepath.Glob("../testdata/corpus/*")
	require.NoError(t, err)
	require.Len(t, files, len(cases), "every corpus entry needs its expectations here")
}
