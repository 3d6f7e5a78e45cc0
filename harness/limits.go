package harness

import (
	"fmt"
	"net/http"
)

// clientOwnedHeaders are the handshake headers the WebSocket client writes
// itself (the Sec-WebSocket-Key is drawn anew for every handshake); it
// refuses a caller's value for them.
var clientOwnedHeaders = map[string]bool{
	"Upgrade": true, "Connection": true, "Sec-Websocket-Key": true,
	"Sec-Websocket-Version": true, "Sec-Websocket-Extensions": true,
}

// LimitError is a test the harness itself cannot run, as opposed to a
// failure of the proxy under test.
type LimitError struct{ Reason string }

func (e *LimitError) Error() string { return "harness limit: " + e.Reason }

// CheckSendable returns a *LimitError when the harness cannot send a
// chosen value in the request header name (any case).
func CheckSendable(name string) error {
	if clientOwnedHeaders[http.CanonicalHeaderKey(name)] {
		return &LimitError{Reason: fmt.Sprintf("the WebSocket client writes %s itself on every handshake and cannot send a value of its choosing in it, so affinity keyed on it cannot be tested", name)}
	}
	return nil
}
