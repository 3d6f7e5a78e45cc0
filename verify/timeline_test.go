package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/stretchr/testify/require"
)

func TestServedBetween(t *testing.T) {
	tests := []struct {
		name      string
		prev, now map[string]backendCount
		want      map[string]int
	}{
		{
			name: "short connections between two samples count though none is open",
			prev: map[string]backendCount{"a": {open: 0, accepted: 100}},
			now:  map[string]backendCount{"a": {open: 0, accepted: 160}},
			want: map[string]int{"a": 60},
		},
		{
			name: "held connections count in every interval",
			prev: map[string]backendCount{"a": {open: 200, accepted: 500}},
			now:  map[string]backendCount{"a": {open: 200, accepted: 500}},
			want: map[string]int{"a": 200},
		},
		{
			name: "a stopped backend served what was open when the interval began",
			prev: map[string]backendCount{"a": {open: 12, accepted: 50}},
			now:  map[string]backendCount{"a": {open: 0, accepted: 50}},
			want: map[string]int{"a": 12},
		},
		{
			name: "a backend missing from a snapshot served nothing new",
			prev: map[string]backendCount{},
			now:  map[string]backendCount{"a": {open: 3, accepted: 3}},
			want: map[string]int{"a": 3, "b": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ids := []string{"a"}
			if _, ok := tc.want["b"]; ok {
				ids = append(ids, "b")
			}
			require.Equal(t, tc.want, servedBetween(tc.prev, tc.now, ids))
		})
	}
}

// Accepted counts survive a backend's restart, so the interval around a
// failover's return counts the returned backend's connections, not a
// negative or a huge number.
func TestEchoBackendsCountAcrossRestarts(t *testing.T) {
	b := newEchoBackends()
	connect := func(t *testing.T, h http.Handler) {
		srv := httptest.NewServer(h)
		defer srv.Close()
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		require.NoError(t, err)
		// An echo proves the server counted the connection.
		require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("hi")))
		_, _, err = c.ReadMessage()
		require.NoError(t, err)
		require.NoError(t, c.Close())
	}
	first, err := b.factory("a")
	require.NoError(t, err)
	connect(t, first.(http.Handler))
	connect(t, first.(http.Handler))
	require.Equal(t, uint64(2), b.counts(context.Background())["a"].accepted)

	second, err := b.factory("a") // the restart
	require.NoError(t, err)
	require.Equal(t, uint64(2), b.counts(context.Background())["a"].accepted)
	connect(t, second.(http.Handler))
	require.Equal(t, uint64(3), b.counts(context.Background())["a"].accepted)
}
