package rewrite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// TestEmptyBlocksRenderAsBlocks renders configs with empty blocks: each
// must come out as "name {\n}" (never "name;", which nginx rejects with
// "directive events has no opening {") and pass nginx -t.
func TestEmptyBlocksRenderAsBlocks(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"events":         "events {}\nhttp { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } } }\n",
		"events-newline": "events {\n}\nhttp { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } } }\n",
		"events-last":    "http { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } } }\nevents {}\n",
		"emptied":        "events { }\nhttp { server { listen 80; location / { proxy_pass http://10.0.0.1:80; } location /quiet { access_log off; } } }\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src := filepath.Join(t.TempDir(), "nginx.conf")
			require.NoError(t, os.WriteFile(src, []byte(text), 0o644))
			c, err := Load(src)
			require.NoError(t, err)
			scratch, err := loopback.NewScratch()
			require.NoError(t, err)
			t.Cleanup(func() { scratch.Close() })
			res := renderLocal(t, c, scratch.Dir)
			out := string(res.Config)
			require.Contains(t, out, "events {\n}")
			require.NotContains(t, out, "events;")
			if strings.Contains(text, "/quiet") {
				// Its only directive is dropped: the block stays.
				require.Contains(t, out, "location /quiet {\n")
			}
			bin := testutil.NeedProxy(t, proxybin.Nginx)
			path, err := scratch.WriteFile(res.ConfigName, res.Config)
			require.NoError(t, err)
			require.NoError(t, bin.Check(context.Background(), path), "rewritten config:\n%s", out)
		})
	}
}

// TestUpgradeConditions evaluates `if` conditions against the values a
// variable takes on WebSocket handshakes and on other requests.
func TestUpgradeConditions(t *testing.T) {
	t.Parallel()
	src := filepath.Join(t.TempDir(), "nginx.conf")
	require.NoError(t, os.WriteFile(src, []byte(`events {}
http {
    map $http_upgrade $is_ws { default 0; "~*websocket" 1; }
    map $http_upgrade $plain { default 0; "" 1; }
    map $is_ws $ws_label { 1 yes; default no; }
    map $http_upgrade $connection_upgrade { default upgrade; "" close; }
    map $http_origin $unrelated { default 0; }
}
`), 0o644))
	tree, err := (&nginxConfig{file: src}).parse()
	require.NoError(t, err)
	vars := collectVars(tree)
	for cond, want := range map[string]int{
		"$is_ws":                        1,
		"$is_ws = 0":                    -1,
		"$is_ws != 1":                   -1,
		"$plain":                        -1,
		"$ws_label = yes":               1,
		"$http_upgrade":                 1,
		"$http_upgrade ~* websocket":    1,
		"$http_upgrade !~* ^websocket$": -1,
		"$http_upgrade = websocket":     1,
		"$connection_upgrade = upgrade": 1,
		"$connection_upgrade = close":   -1,
		"$unrelated":                    0,
		"$request_method = GET":         0,
		"$http_upgrade ~* (":            0,
	} {
		require.Equal(t, want, vars.upgradeCondition(strings.Fields(cond)), cond)
	}
	require.Equal(t, -1, vars.upgradeCondition([]string{"$http_upgrade", "=", ""}))
}
