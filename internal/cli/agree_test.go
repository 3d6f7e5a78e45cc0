package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The loader's affinity warnings and validate on the generated configs
// give one verdict: a pool the loader warns about is reported by WSLB105
// and WSLB204, and a pool it accepts draws neither (nor the ip_hash and
// hash advice, for the default nginx_method).
func TestLoaderAndValidateAgreeOnAffinity(t *testing.T) {
	const topo = `listener "public" {
  address = "127.0.0.1:8080"
}
route "all" {
  path = "/"
  pool = "app"
}
pool "app" {
  websocket = true
  %s
  server "a" {
    address = "10.0.0.1:8080"
  }
  server "b" {
    address = "10.0.0.2:8080"
  }
}
`
	for _, tc := range []struct {
		name, affinity string
		warn           bool
	}{
		{"WebSocket pool on / without affinity", "", true},
		{"explicit mode none", `affinity {
    mode = "none"
  }`, false},
		{"default nginx_method", `affinity {
    mode = "source"
  }`, false},
		{"cookie", `affinity {
    mode = "cookie"
    cookie = "SRV"
  }`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTopology(t, strings.Replace(topo, "%s", tc.affinity, 1))
			code, stdout, stderr := runValidateCLI(t, "", path, "--fail-on", "warning")
			loaderWarns := strings.Contains(stderr, "warning: WebSocket pool without affinity")
			require.Equal(t, tc.warn, loaderWarns, "loader warning\n%s", stderr)
			for _, rule := range []string{"WSLB105", "WSLB204"} {
				require.Equal(t, loaderWarns, strings.Contains(stdout, rule), "%s must agree with the loader\nstdout:\n%s\nstderr:\n%s", rule, stdout, stderr)
			}
			for _, rule := range []string{"WSLB108", "WSLB109"} {
				require.NotContains(t, stdout, rule)
			}
			if loaderWarns {
				require.Equal(t, ExitFailed, code)
				require.Contains(t, stderr, "Add an affinity block unless the servers share state")
			} else {
				require.Equal(t, ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			}
		})
	}
}

// A pool that only WebSocket handshakes reach is a pure WebSocket route
// for validate on both proxies (the generated location / answers plain
// requests 404 itself); the loader still warns, as docs/topology.md says.
func TestValidateAgreesAcrossProxiesOnPureWebSocketPool(t *testing.T) {
	path := writeTopology(t, `listener "public" {
  address = "127.0.0.1:8080"
}
route "all" {
  path = "/"
  websocket = true
  pool = "app"
}
pool "app" {
  server "a" {
    address = "10.0.0.1:8080"
  }
  server "b" {
    address = "10.0.0.2:8080"
  }
}
`)
	_, stdout, stderr := runValidateCLI(t, "", path)
	require.Contains(t, stderr, "warning: WebSocket pool without affinity")
	require.NotContains(t, stdout, "WSLB105", stdout)
	require.NotContains(t, stdout, "WSLB204", stdout)
}
