package proxy

import "testing"

func TestPollTransport(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/socket.io/", false}, // the route detector's
		{"/echo/[^/]+/[^/]+/xhr", true},
		{"^/echo/.*/(xhr|xhr_send|xhr_streaming)$", true},
		{"/chat/123/abcd/eventsource", true},
		{"/chathub/negotiate", true},
		{"/hubs/chat/negotiate?negotiateVersion=1", true},
		{"/xhr", false},
		{"/negotiate", false},
		{"/api/info", false},
		{"/api/xhrdata", false},
		{"/ws", false},
		{"/", false},
	} {
		if _, ok := PollTransport(tc.path); ok != tc.ok {
			t.Errorf("PollTransport(%q) = %v, want %v", tc.path, ok, tc.ok)
		}
	}
}
