package proxy

import (
	"regexp"
	"strings"
)

// transportRe matches the endpoints a long-polling stack serves under an
// application prefix of any name, which give the stack away where the
// prefix does not: SockJS's transports (/PREFIX/SERVER/SESSION/xhr,
// xhr_send, xhr_streaming, eventsource, htmlfile, jsonp, jsonp_send) and
// ASP.NET Core SignalR's /HUB/negotiate. SockJS's /PREFIX/info is left
// out: /api/info is as often a plain status page.
var transportRe = regexp.MustCompile(`(?i)(^|[/(|])(xhr|xhr_send|xhr_streaming|eventsource|htmlfile|jsonp|jsonp_send|negotiate)($|[/?$)|\\])`)

// PollTransport classifies a route's path (a location's argument or
// regex, or an ACL's path value) by the transport endpoints of
// long-polling stacks: it names the endpoint ("SockJS's xhr transport")
// when the path is one. The well-known stack prefixes (/socket.io,
// /sockjs, /signalr, /hub(s), /cable) are PollingPath's: the route
// detectors mark such routes as WebSocket routes that long-poll; this
// adds the endpoints that sit under a prefix of the application's
// choosing and carry no WebSocket themselves.
func PollTransport(path string) (string, bool) {
	for _, m := range transportRe.FindAllStringSubmatchIndex(path, -1) {
		// A prefix must come first: a bare /xhr is not SockJS's.
		if strings.Trim(path[:m[4]], "^~=*@ /(|") == "" {
			continue
		}
		if ep := strings.ToLower(path[m[4]:m[5]]); ep != "negotiate" {
			return "SockJS's " + ep + " transport", true
		}
		return "SignalR's negotiate endpoint", true
	}
	return "", false
}
