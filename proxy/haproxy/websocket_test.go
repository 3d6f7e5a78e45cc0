package haproxy

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wslb/wslb/proxy"
)

func TestHAProxyDetection(t *testing.T) {
	c := Parse("h.cfg", []byte(`defaults
    mode http
frontend fe
    bind :80
    acl upg hdr(upgrade) -i websocket
    acl sio path_beg /socket.io/
    use_backend a if upg
    use_backend b if { path_beg /cable }
    use_backend c if sio
    use_backend d if !upg
    default_backend e
frontend other
    bind :81
    default_backend c
backend a
backend b
backend c
backend d
backend e
backend ws_named
`))
	w := DetectWebSockets(c, false)
	var names []string
	for s := range w.Backends {
		names = append(names, s.Name)
	}
	require.ElementsMatch(t, []string{"a", "b", "c", "ws_named"}, names)
	var fronts []string
	for s := range w.Frontends {
		fronts = append(fronts, s.Name)
	}
	require.ElementsMatch(t, []string{"fe", "other"}, fronts, "other routes to a WebSocket backend")
}

func TestHAProxyDetectionSigns(t *testing.T) {
	c := Parse("h.cfg", []byte(`defaults
    mode http
frontend fe
    bind :80
    acl upg hdr(upgrade) -i websocket
    acl rt hdr_beg(host) -i ws.
    use_backend pure if upg
    use_backend hosted if rt
    default_backend web
frontend tunnelled
    bind :81
    timeout tunnel 1h
    default_backend feed
backend pure
backend hosted
backend web
    timeout tunnel 30m
backend feed
listen stats
    bind :9000
    acl upg hdr(upgrade) -i websocket
    stats enable
`))
	w := DetectWebSockets(c, false)
	got := map[string]proxy.Why{}
	for s, why := range w.Backends {
		got[s.Name] = why
	}
	require.Len(t, got, 4, "%v", got)
	require.Empty(t, got["pure"].Polling, "selected by the Upgrade header only")
	require.Equal(t, "it is selected by a Host ACL (ws.) in frontend fe on line 8", got["hosted"].String())
	require.NotEmpty(t, got["hosted"].Polling)
	require.Equal(t, "timeout tunnel is set on line 17", got["web"].String())
	require.Contains(t, got["web"].Polling, "default_backend web in frontend fe")
	require.Equal(t, "frontend tunnelled sets timeout tunnel and routes here on line 12", got["feed"].String())
}

// A path ACL that lists a plain WebSocket path first and a Socket.IO path
// after it still sends long-polls to the backend: the polling path
// decides, not the one the reason quotes.
func TestHAProxyLongPollFromAnyPathOfTheACL(t *testing.T) {
	c := Parse("h.cfg", []byte(`defaults
    mode http
frontend fe
    bind :80
    acl ws path_beg /ws /socket.io
    acl cable path_beg /ws /cable
    use_backend io if ws
    use_backend ac if cable
backend io
backend ac
`))
	w := DetectWebSockets(c, false)
	got := map[string]proxy.Why{}
	for s, why := range w.Backends {
		got[s.Name] = why
	}
	require.True(t, got["io"].LongPoll, "%+v", got["io"])
	require.Contains(t, got["io"].Polling, "/socket.io")
	require.False(t, got["ac"].LongPoll, "Action Cable never long-polls")
	require.Contains(t, got["ac"].Polling, "/cable")
}
