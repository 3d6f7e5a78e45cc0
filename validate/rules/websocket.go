package rules

import (
	"regexp"
	"strings"
)

// WebSocketPaths are path prefixes that well-known WebSocket stacks use:
// plain /ws, Socket.IO, SockJS, Rails Action Cable, ASP.NET SignalR hubs,
// Phoenix (/socket/websocket, /live/websocket) and GraphQL subscriptions.
// Generic words such as /live or /socket are left out: they name video
// streams and other plain HTTP just as often.
var WebSocketPaths = []string{
	"/ws", "/wss", "/websocket", "/websockets", "/socket.io", "/sockjs",
	"/cable", "/hub", "/hubs", "/signalr", "/graphql-ws", "/subscriptions",
}

// wsNameRe matches names (backends, upstreams, ACLs) that announce
// WebSocket traffic: ws, wss, websocket(s), socketio, sockjs, cable.
var wsNameRe = regexp.MustCompile(`(?i)(^|[^a-z0-9])(ws|wss|websockets?|socket[-_.]?io|sockjs|cable|signalr)($|[^a-z])|websocket`)

// isWebSocketName reports whether a backend/upstream/ACL name announces
// WebSocket traffic.
func isWebSocketName(name string) bool { return wsNameRe.MatchString(name) }

// isWebSocketPath reports whether a path or path prefix is one of the
// well-known WebSocket endpoints.
func isWebSocketPath(p string) bool {
	p = strings.ToLower(strings.TrimLeft(p, "^~=*@ "))
	p = strings.TrimSuffix(strings.TrimSuffix(p, "$"), "/")
	for _, w := range WebSocketPaths {
		if p == w || strings.HasPrefix(p, w+"/") || strings.HasPrefix(p, w+"(") || strings.HasPrefix(p, w+"\\") {
			return true
		}
		// nested: /api/ws, /app/socket.io
		if strings.HasSuffix(p, w) || strings.Contains(p, w+"/") {
			return true
		}
	}
	return false
}
