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
// proxy_pass serves WebSockets when it (or a block it inherits from) sets
// proxy_set_header Upgrade or Connection to upgrade, when its location is
// a well-known WebSocket path, when it proxies to an upstream whose name
// announces WebSockets, or when all is set. Upstreams such blocks proxy
// to serve WebSockets too.
func DetectNginxWebSockets(c *nginx.Config, all bool) *NginxWebSockets {
	w := &NginxWebSockets{Locations: map[*nginx.Node]string{}, Upstreams: map[*nginx.Node]string{}}
	for _, pp := range c.All("proxy_pass") {
		blk := pp.Parent
		if blk == nil || blk.Name == "if" || blk.Name == "limit_except" {
			if blk == nil {
				continue
			}
			blk = blk.Parent
			if blk == nil {
				continue
			}
		}
		reason := ""
		switch {
		case all:
			reason = "--websocket all"
		case upgradeIntent(blk):
			reason = "it forwards the Upgrade/Connection headers"
		case blk.Name == "location" && isWebSocketPath(lastArg(blk)):
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
