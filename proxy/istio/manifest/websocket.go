package manifest

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy"
)

// websockets says why route r carries WebSockets, or nil. A route does
// when:
//
//  1. a match takes the handshake: an Upgrade header naming websocket (or
//     Connection naming upgrade);
//  2. a matched path is a well-known WebSocket endpoint (/ws, /socket.io,
//     /sockjs, /cable, /hubs, ... as for HAProxy and NGINX), unless a
//     handshake-only route of the same object matches that path: then
//     that route carries the WebSockets and this one the plain requests;
//  3. the route's name, or the first label of a destination's host (the
//     Service's name), announces WebSockets (ws, websocket, socketio,
//     sockjs, cable, signalr as a word).
//
// Polling records whether requests other than handshakes reach it with a
// Socket.IO, SockJS, SignalR or Action Cable path or name, or a
// long-polling transport's path (proxy.PollTransport): those clients
// need the same backend for every request.
func websockets(r *Route, all bool, handshakePaths map[string]bool) *proxy.Why {
	var why *proxy.Why
	set := func(reason string, line int) {
		if why == nil {
			why = &proxy.Why{Reason: reason, Where: fmt.Sprintf("line %d", line)}
		}
	}
	for _, m := range r.Matches {
		if m.Upgrade {
			set("it matches the Upgrade: websocket handshake", m.UpgradeNode.Line)
		}
	}
	for _, m := range r.Matches {
		if m.PathNode != nil && (proxy.IsWebSocketPath(m.Path) || proxy.IsPureWebSocketPath(m.Path)) && (m.Upgrade || !handshakePaths[m.Path]) {
			set(fmt.Sprintf("it matches %s, a WebSocket path", m.Path), m.PathNode.Line)
		}
	}
	if r.Name != "" && proxy.IsWebSocketName(r.Name) {
		set(fmt.Sprintf("its name %q says WebSocket", r.Name), r.Node.Line)
	}
	for _, d := range r.Destinations {
		if label, _, _ := strings.Cut(d.Host, "."); proxy.IsWebSocketName(label) {
			set(fmt.Sprintf("its destination %s says WebSocket", d.Host), d.HostKey.Line)
		}
	}
	if why == nil && all {
		why = &proxy.Why{Reason: "--websocket all"}
	}
	if why == nil {
		return nil
	}
	why.Polling, why.LongPoll = polling(r)
	return why
}

// polling says why requests other than WebSocket handshakes that need one
// backend reach r: "" when none do (every match takes only handshakes, or
// nothing names a long-polling stack).
func polling(r *Route) (string, bool) {
	open := len(r.Matches) == 0 // no match: every request
	for _, m := range r.Matches {
		if m.Upgrade {
			continue
		}
		open = true
		if m.PathNode == nil {
			continue
		}
		if proxy.PollingPath(m.Path) {
			return fmt.Sprintf("%s takes Socket.IO, SockJS, SignalR or Action Cable requests on line %d", m.Path, m.PathNode.Line), proxy.LongPollRe.MatchString(m.Path)
		}
		if ep, ok := proxy.PollTransport(m.Path); ok {
			return fmt.Sprintf("%s is %s on line %d", m.Path, ep, m.PathNode.Line), true
		}
	}
	if !open {
		return "", false
	}
	names := []string{r.Name}
	for _, d := range r.Destinations {
		label, _, _ := strings.Cut(d.Host, ".")
		names = append(names, label)
	}
	for _, n := range names {
		if n != "" && proxy.PollingNameRe.MatchString(n) {
			return fmt.Sprintf("%q names a stack whose clients long-poll", n), proxy.LongPollRe.MatchString(n)
		}
	}
	return "", false
}
