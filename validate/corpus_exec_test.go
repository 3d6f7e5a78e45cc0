package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

// corpusRejected says which corpus configs the real binaries refuse to
// load (WSLB002), by version: most are refused by every version or none,
// two by some only.
var corpusRejected = map[string]func(v topology.Version) bool{
	"classic-balance-source-tcp.cfg":    always,
	"cluster-manager-long-timeouts.cfg": always,
	"helm-haproxy-template.cfg":         always,
	"legacy-haproxy15-guide.cfg":        always,
	"signalr-haproxy-hubs.cfg":          always,
	// `option httpchk GET / HTTP/1.1\r\nHost:...` hides headers in the
	// version string: a warning on 2.6, refused on 3.x.
	"haproxy-blog-websockets.cfg":     func(v topology.Version) bool { return v.AtLeast(3, 0, 0) },
	"actioncable-nginx-site.conf":     always,
	"fediverse-streaming-nginx.conf":  always,
	"home-assistant-nginx.conf":       always,
	"hosting-panel-proxy.tpl.conf":    always,
	"nginx-blog-websocket-proxy.conf": always,
	"socketio-docs-nginx.conf":        always,
	// NGINX 1.22 does not know `http2 on`; later ones miss its
	// certificates.
	"docker-compose-nginx.conf": always,
	// `server ... resolve` in an upstream came to open-source NGINX in
	// 1.27.3 (as WSLB112 says).
	"compose-dynamic-upstream-nginx.conf": func(v topology.Version) bool { return !v.AtLeast(1, 27, 3) },
}

func always(topology.Version) bool { return true }

// TestCorpusExecOnEveryVersion runs --exec on every corpus config with
// every supported version of its proxy: the binary refuses exactly the
// configs corpusRejected names for that version.
func TestCorpusExecOnEveryVersion(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	require.NoError(t, err)
	for name := range corpusRejected {
		_, err := os.Stat(filepath.Join(corpusDir, name))
		require.NoError(t, err, "corpusRejected names a config the corpus lacks")
	}
	testutil.EachProxyVersion(t, func(t *testing.T, bin proxybin.Binary) {
		for _, e := range entries {
			name := e.Name()
			if strings.HasSuffix(name, ".labels") {
				continue
			}
			path := filepath.Join(corpusDir, name)
			srcs, err := Collect([]string{path})
			require.NoError(t, err)
			if kind, _ := Detect(srcs[0].Name, nil); kind != bin.Kind {
				continue
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				opts := Options{
					Exec: true,
					// As TestCorpusPrecision: the distribution's
					// includes (/etc/nginx/mime.types) may be read, so
					// the check runs on configs that include them.
					Roots:    []string{path, "/etc/nginx"},
					Binaries: func(Kind) (proxybin.Binary, error) { return bin, nil },
				}
				res, err := Lint(context.Background(), srcs, opts)
				require.NoError(t, err)
				rejected := false
				for _, f := range res.Findings {
					rejected = rejected || f.Rule == "WSLB002"
				}
				want := corpusRejected[name] != nil && corpusRejected[name](bin.Version)
				require.Equal(t, want, rejected, "%s %s refusing %s\n%s", bin.Kind, bin.Version, name, describe(res))
			})
		}
	})
}
