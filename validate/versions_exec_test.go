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
)

// WSLB215's table of HAProxy sections newer than the oldest target says
// what the real binaries do: each supported version refuses a section
// (WSLB002) exactly when the rule, targeting that version, says it is too
// new for it (crt-store came with 3.0, traces with 3.1).
func TestHAProxySectionVersionsAgreeWithTheBinaries(t *testing.T) {
	const rest = "\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n" +
		"frontend fe\n    bind 127.0.0.1:8080\n    default_backend be\nbackend be\n    server s1 127.0.0.1:9\n"
	testutil.EachVersionOf(t, proxybin.HAProxy, func(t *testing.T, bin proxybin.Binary) {
		for section, since := range map[string][3]int{"crt-store web": {3, 0, 0}, "traces": {3, 1, 0}} {
			path := filepath.Join(t.TempDir(), "haproxy.cfg")
			require.NoError(t, os.WriteFile(path, []byte(section+"\n"+rest), 0o644))
			opts := Options{Exec: true, Binaries: func(Kind) (proxybin.Binary, error) { return bin, nil }}
			opts.SetVersion(HAProxy, bin.Version)
			res, err := Lint(context.Background(), []Source{{Name: path}}, opts)
			require.NoError(t, err)
			fired := map[string]bool{}
			for _, f := range res.Findings {
				fired[f.Rule] = true
			}
			refused := !bin.Version.AtLeast(since[0], since[1], since[2])
			require.Equal(t, refused, fired["WSLB002"], "%s %s on a %q section\n%s", bin.Kind, bin.Version, section, describe(res))
			require.Equal(t, fired["WSLB002"], fired["WSLB215"], "%s %s on a %q section: the rule and the binary disagree\n%s", bin.Kind, bin.Version, section, describe(res))
		}
	})
}

// --exec with an NGINX older than 1.23 notes that a config reading
// $http_origin sees only the first Origin line; newer ones get no note.
func TestExecNotesTheFirstOriginLineOnOldNginx(t *testing.T) {
	const conf = "events {}\nhttp {\n    map $http_origin $bad_origin {\n        default 1;\n        \"https://app.example.test\" 0;\n    }\n" +
		"    server {\n        listen 127.0.0.1:8080;\n        location /ws {\n            if ($bad_origin) { return 403; }\n" +
		"            proxy_pass http://127.0.0.1:9;\n        }\n    }\n}\n"
	testutil.EachVersionOf(t, proxybin.Nginx, func(t *testing.T, bin proxybin.Binary) {
		path := filepath.Join(t.TempDir(), "nginx.conf")
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o644))
		opts := Options{Exec: true, Binaries: func(Kind) (proxybin.Binary, error) { return bin, nil }}
		res, err := Lint(context.Background(), []Source{{Name: path}}, opts)
		require.NoError(t, err)
		noted := false
		for _, n := range res.Notes {
			noted = noted || strings.Contains(n, "first Origin header line")
		}
		require.Equal(t, !bin.Version.AtLeast(1, 23, 0), noted, "nginx %s: %q", bin.Version, res.Notes)
	})
}
