package harness

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientOwnedHeaderIsAHarnessLimit(t *testing.T) {
	for _, h := range []string{"Sec-WebSocket-Key", "sec-websocket-version", "UPGRADE", "Connection", "Sec-WebSocket-Extensions"} {
		_, err := New(Config{URL: "ws://127.0.0.1:9/ws", Mode: ModeHeader, Key: h, Clients: 1})
		var lim *LimitError
		require.True(t, errors.As(err, &lim), "%s: %v", h, err)
		require.Contains(t, err.Error(), "harness limit")
	}
	_, err := New(Config{URL: "ws://127.0.0.1:9/ws", Mode: ModeHeader, Key: "X-Session-Id", Clients: 1})
	require.NoError(t, err)
}
