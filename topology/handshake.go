package topology

import "strings"

// handshakeHeaders are request headers of the WebSocket handshake itself,
// with why none of them can keep a client on one server: their value is
// either fresh on every handshake or the same for every client.
var handshakeHeaders = map[string]string{
	"sec-websocket-key":        "a random value the client draws anew for every handshake, so a reconnecting client hashes to a different server",
	"sec-websocket-version":    "the protocol version (13), the same for every client, so every client lands on one server",
	"sec-websocket-extensions": "the extensions the client library offers, the same for every client of a library, so they all land on one server",
	"upgrade":                  "always \"websocket\" on a handshake, so every client lands on one server",
	"connection":               "always \"Upgrade\" on a handshake, so every client lands on one server",
}

// HandshakeHeader reports whether name (any case) is a WebSocket handshake
// header, and why it cannot serve as an affinity key.
func HandshakeHeader(name string) (why string, ok bool) {
	why, ok = handshakeHeaders[strings.ToLower(name)]
	return why, ok
}
