package nginx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	crossplane "github.com/nginxinc/nginx-go-crossplane"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/proxy/rewrite"
)

func TestNginxHelpers(t *testing.T) {
	t.Parallel()
	require.Equal(t, "X-User-Id", headerName("x_user_id"))
	require.Equal(t, "Authorization", headerName("authorization"))
	for args, want := range map[string]string{
		"/ws":              "/ws",
		"= /socket":        "/socket",
		"~ ^/socket.io/":   "/socket.io/",
		"~ ^/ws/?$":        "/ws/",
		"~ ^/live/.*":      "/live/",
		"~ ^/a\\.b/":       "/a.b/",
		"~* \\.php$":       "/",
		"^~ /live/":        "/live/",
		"@fallback":        "/",
		"~ ^/chat/(\\d+)$": "/chat/",
	} {
		loc := &crossplane.Directive{Directive: "location", Args: strings.Fields(args)}
		require.Equal(t, want, locationPath(loc), args)
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

func TestServerNamesFromComments(t *testing.T) {
	long := strings.Repeat("a", 64)
	src := "upstream app {\n    server 10.0.0.1:80; # ws1\n    server 10.0.0.2:80; # " + long + "\n    server 10.0.0.3:80; # " + long + "b\n}\n"
	servers := []rewrite.Server{{Name: "app-1", File: "n.conf", Line: 2}, {Name: "app-2", File: "n.conf", Line: 3}, {Name: "app-3", File: "n.conf", Line: 4}}
	nameServers(servers, map[string][]byte{"n.conf": []byte(src)})
	// A name is at most 64 characters: the third keeps its own.
	require.Equal(t, []string{"ws1", long, "app-3"}, []string{servers[0].Name, servers[1].Name, servers[2].Name})
}
