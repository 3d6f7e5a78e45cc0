package rules

import (
	"strings"

	"github.com/wslb/wslb/validate/nginx"
)

// NginxWebSockets records which locations and upstreams carry WebSockets.
type NginxWebSockets struct {
	// Locations maps proxying locations (or servers proxying at their
	// top level) that serve WebSockets to the reason.
	Locations map[*nginx.Node]string
	// Upstreams maps upstream blocks such locations proxy to.
	Upstreams map[*nginx.Node]string
}

// Serves reports whether a proxying block serves WebSockets.
func (w *NginxWebSockets) Serves(n *nginx.Node) bool { _, ok := w.Locations[n]; return ok }

// DetectNginxWebSockets applies the documented definition: a block with
// proxy_pass serves WebSockets when it sets proxy_set_header Upgrade (or
// Connection to upgrade) itself, when an enclosing block sets them but the
// block's own proxy_set_header lines drop them, when its location is a
// well-known WebSocket path, when it proxies to an upstream whose name
// announces WebSockets, when it is the named location handshakes are
// diverted to, or when all is set. A location that diverts handshakes
// elsewhere (if ($is_websocket) { return 418; } with error_page 418 =
// @ws) does not serve them itself. Upstreams such blocks proxy to serve
// WebSockets too.
func DetectNginxWebSockets(c *nginx.Config, all bool) *NginxWebSockets {
	w := &NginxWebSockets{Locations: map[*nginx.Node]string{}, Upstreams: map[*nginx.Node]string{}}
	divertedTo := map[string]string{} // named location → diverting location
	for _, loc := range c.All("location") {
		if target := divertTarget(loc); target != "" {
			divertedTo[target] = loc.Label()
		}
	}
	for _, pp := range c.All("proxy_pass") {
		if pp.Enclosing("stream") != nil {
			continue // TCP proxying: no HTTP handshake to forward
		}
		blk := pp.Parent
		if blk != nil && (blk.Name == "if" || blk.Name == "limit_except") {
			blk = blk.Parent
		}
		if blk == nil {
			continue
		}
		reason := ""
		switch {
		case all:
			reason = "--websocket all"
		case divertTarget(blk) != "":
			continue // handshakes go to the named location
		case divertedTo[lastArg(blk)] != "" && blk.Name == "location":
			reason = "WebSocket handshakes are sent here from " + divertedTo[lastArg(blk)]
		case ownUpgrade(blk):
			reason = "it forwards the Upgrade/Connection headers"
		case len(blk.Own("proxy_set_header")) > 0 && upgradeIntent(blk.Parent):
			reason = "the enclosing block forwards the Upgrade/Connection headers"
		case blk.Name == "location" && (isWebSocketPath(lastArg(blk)) || regexNamesWebSocketPath(blk)):
			reason = "its path " + lastArg(blk) + " is a well-known WebSocket endpoint"
		case isWebSocketName(upstreamName(pp.Arg(0))):
			reason = "it proxies to " + upstreamName(pp.Arg(0))
		}
		if reason == "" {
			continue
		}
		w.Locations[blk] = reason
		if up := c.Upstream(upstreamName(pp.Arg(0))); up != nil {
			if _, ok := w.Upstreams[up]; !ok {
				w.Upstreams[up] = "the WebSocket " + blk.Label() + " proxies to it"
			}
		}
	}
	return w
}

// divertTarget returns the named location a block sends WebSocket
// handshakes to: an if on an upgrade/websocket variable that returns a
// code the block (or its server) maps with error_page to @name.
func divertTarget(blk *nginx.Node) string {
	for _, cond := range blk.Own("if") {
		test := strings.ToLower(strings.Join(cond.Args, " "))
		if !strings.Contains(test, "upgrade") && !strings.Contains(test, "websocket") && !strings.Contains(test, "_ws") {
			continue
		}
		for _, ret := range cond.Own("return") {
			code := ret.Arg(0)
			for b := blk; b != nil; b = b.Parent {
				for _, ep := range b.Own("error_page") {
					if hasArg(ep.Args, code) {
						target := strings.TrimLeft(lastArg(ep), "=")
						if strings.HasPrefix(target, "@") {
							return target
						}
					}
				}
			}
		}
	}
	return ""
}

func hasArg(args []string, v string) bool {
	for _, a := range args {
		if a == v {
			return true
		}
	}
	return false
}

// ownUpgrade reports whether the block itself sets the handshake headers.
func ownUpgrade(n *nginx.Node) bool {
	for _, h := range n.Own("proxy_set_header") {
		name := strings.ToLower(h.Arg(0))
		if name == "upgrade" || name == "connection" && connectionUpgrades(h.Arg(1)) {
			return true
		}
	}
	return false
}

// upgradeIntent reports whether the block or any enclosing block sets
// proxy_set_header Upgrade, or Connection to an upgrade value: the
// author meant WebSockets here even if inheritance later drops it.
func upgradeIntent(n *nginx.Node) bool {
	for b := n; b != nil; b = b.Parent {
		for _, h := range b.Own("proxy_set_header") {
			name := strings.ToLower(h.Arg(0))
			if name == "upgrade" {
				return true
			}
			if name == "connection" && connectionUpgrades(h.Arg(1)) {
				return true
			}
		}
	}
	return false
}

// connectionUpgrades reports whether a Connection header value can carry
// "upgrade": the literal, or a variable (mapped from $http_upgrade).
func connectionUpgrades(v string) bool {
	return strings.EqualFold(strings.TrimSpace(v), "upgrade") || strings.Contains(v, "$")
}

func lastArg(n *nginx.Node) string {
	if len(n.Args) == 0 {
		return ""
	}
	return n.Args[len(n.Args)-1]
}

// upstreamName extracts the host part of a proxy_pass URL; nginx matches
// it against upstream names.
func upstreamName(target string) string {
	t := target
	if i := strings.Index(t, "://"); i >= 0 {
		t = t[i+3:]
	}
	if strings.HasPrefix(t, "unix:") {
		return ""
	}
	if i := strings.IndexAny(t, "/"); i >= 0 {
		t = t[:i]
	}
	if i := strings.LastIndex(t, ":"); i >= 0 && !strings.Contains(t, "]") {
		t = t[:i]
	}
	return t
}

// regexNamesWebSocketPath catches regex locations such as
// ~ ^/(socket\.io|ws)/ that list a well-known WebSocket path.
func regexNamesWebSocketPath(loc *nginx.Node) bool {
	if len(loc.Args) < 2 || !strings.HasPrefix(loc.Args[0], "~") {
		return false
	}
	re := strings.NewReplacer(`\.`, ".", "(", "/", ")", "/", "|", "/", "^", "", "$", "", "?", "").Replace(loc.Args[1])
	for _, part := range strings.Split(re, "/") {
		if part != "" && isWebSocketPath("/"+part) {
			return true
		}
	}
	return false
}
