package haproxy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHAProxyHelpers(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"check", "weight", "2", "backup", "cookie", "a1"},
		filterServerOptions(strings.Fields("check ssl verify none weight 2 send-proxy-v2 backup resolvers dns init-addr none cookie a1 ca-file /etc/ssl/ca.pem")))
	require.Equal(t, []string{"name", "web", "maxconn", "100"}, filterBindOptions(strings.Fields("ssl crt /etc/site.pem name web alpn h2 maxconn 100 accept-proxy")))
	acls := map[string][][]string{"is_ws": {{"hdr(Upgrade)", "-i", "websocket"}}, "api": {{"path_beg", "/api"}}}
	require.Equal(t, [][]string{{"hdr(Upgrade)", "-i", "websocket"}, {"path_beg", "/ws"}},
		conditionTests(strings.Fields("if is_ws { path_beg /ws } !missing"), acls))
}

// TestFastCheckTimeout: the fast copy raises a short `timeout check` to
// loopback.FastCheckTimeout, keeps a longer one, and leaves a value HAProxy
// cannot read for HAProxy to report at the user's line.
func TestFastCheckTimeout(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1000ms", fastCheckTimeout("300ms"))
	require.Equal(t, "2s", fastCheckTimeout("2s"))
	require.Equal(t, "5x", fastCheckTimeout("5x"))
}
