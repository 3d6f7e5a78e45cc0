package proxy

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

// IsWebSocketName reports whether a backend/upstream/ACL name announces
// WebSocket traffic.
func IsWebSocketName(name string) bool { return wsNameRe.MatchString(name) }

// locationPath lower-cases a location or ACL path and strips the
// location modifiers and regex anchors around it ("^~ /WS/" is "/ws").
func locationPath(p string) string {
	p = strings.ToLower(strings.TrimLeft(p, "^~=*@ "))
	return strings.TrimSuffix(strings.TrimSuffix(p, "$"), "/")
}

// IsWebSocketPath reports whether a path or path prefix is one of the
// well-known WebSocket endpoints.
func IsWebSocketPath(p string) bool {
	p = locationPath(p)
	for _, w := range WebSocketPaths {
		// anywhere in the path (/ws, /ws/x, /api/ws, /app/socket.io/x),
		// or opening a regex location ("/ws(/|$)", "/ws\b")
		if strings.HasSuffix(p, w) || strings.Contains(p, w+"/") || strings.HasPrefix(p, w+"(") || strings.HasPrefix(p, w+"\\") {
			return true
		}
	}
	return false
}

// Why records why a route carries WebSockets, so every finding can say
// so: "carries WebSockets (because: timeout tunnel is set on line 12)".
// Every rule that asks whether a route carries WebSockets reads the one
// answer the detectors record.
type Why struct {
	// Reason is what a reader would point at ("timeout tunnel is set").
	Reason string
	// Where is the line (or file:line for an included file) of that
	// evidence; "" when it is not one line (--websocket all).
	Where string
	// Generic is set when the only sign is a catch-all location that
	// passes Upgrade through for whatever might use it; rules about idle
	// WebSockets leave such routes alone.
	Generic bool
	// Polling says why HTTP long-polling or plain HTTP also reaches the
	// route (a Socket.IO/SockJS/SignalR/Action Cable path, or a backend
	// that plain requests share); "" for a pure WebSocket route.
	Polling string
	// LongPoll is set when the route names a stack that long-polls
	// (Socket.IO, SockJS, SignalR): a poll is held open for up to the
	// stack's ping interval, so short response timeouts cut it.
	LongPoll bool
}

func (w Why) String() string {
	if w.Where == "" {
		return w.Reason
	}
	return w.Reason + " on " + w.Where
}

// pollingPaths are endpoints whose clients fall back to HTTP
// long-polling (Socket.IO, SockJS, SignalR) or keep per-node state across
// reconnects (Action Cable channels).
var pollingPaths = []string{"/socket.io", "/sockjs", "/signalr", "/hub", "/hubs", "/cable"}

// PollingNameRe matches names of stacks whose clients long-poll or keep
// per-node state (Action Cable).
var PollingNameRe = regexp.MustCompile(`(?i)socket[-_.]?io|sockjs|signalr|cable|(^|[^a-z])hubs?($|[^a-z])`)

// LongPollRe matches paths and names of stacks that hold HTTP long-polls
// (Action Cable never long-polls).
var LongPollRe = regexp.MustCompile(`(?i)socket[-_.]?io|sockjs|signalr|(^|[^a-z])hubs?($|[^a-z])`)

// PollingPath reports whether a path names a long-polling capable stack.
func PollingPath(p string) bool {
	p = strings.ToLower(p)
	for _, w := range pollingPaths {
		if strings.Contains(p, w) {
			return true
		}
	}
	return false
}

// pureWebSocketPaths are WebSocket-only endpoints (MQTT and STOMP over
// WebSocket): they carry WebSockets but never long-poll.
var pureWebSocketPaths = []string{"/mqtt", "/stomp"}

func IsPureWebSocketPath(p string) bool {
	p = locationPath(p)
	for _, w := range pureWebSocketPaths {
		if strings.HasPrefix(p, w+"/") || strings.HasSuffix(p, w) {
			return true
		}
	}
	return false
}

// wsHostRe matches host names whose first label announces a WebSocket
// service: ws.example.com, wss.example.com, websocket.example.com,
// socketio.example.com.
var wsHostRe = regexp.MustCompile(`(?i)^\.?(ws|wss|websockets?|socket[-_]?io|sockjs|signalr|cable)[.-]`)

func IsWebSocketHost(h string) bool { return wsHostRe.MatchString(strings.TrimPrefix(h, "*.")) }
