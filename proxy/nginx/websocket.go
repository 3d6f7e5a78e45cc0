package nginx

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/wslb/wslb/proxy"
)

// WebSockets records which locations and upstreams carry WebSockets.
type WebSockets struct {
	// Locations maps proxying locations (or servers proxying at their
	// top level) that serve WebSockets to the reason.
	Locations map[*Node]proxy.Why
	// Upstreams maps upstream blocks such locations proxy to.
	Upstreams map[*Node]proxy.Why
}

// Serves reports whether a proxying block serves WebSockets.
func (w *WebSockets) Serves(n *Node) bool { _, ok := w.Locations[n]; return ok }

// DetectWebSockets applies the documented definition: a block with
// proxy_pass serves WebSockets when it sets proxy_set_header Upgrade (or
// Connection to upgrade) itself, when an enclosing block sets them but the
// block's own proxy_set_header lines drop them, when its location is a
// well-known WebSocket path, when it proxies to an upstream whose name
// announces WebSockets (unless another block of its server forwards the
// handshake to that upstream), when it is the named location handshakes
// are diverted to, or when all is set. A location that diverts handshakes
// elsewhere (if ($is_websocket) { return 418; } with error_page 418 =
// @ws) does not serve them itself. Upstreams such blocks proxy to serve
// WebSockets too.
func DetectWebSockets(c *Config, all bool) *WebSockets {
	w := &WebSockets{Locations: map[*Node]proxy.Why{}, Upstreams: map[*Node]proxy.Why{}}
	d := &nginxDetector{c: c, all: all, divertedTo: map[string]*Node{}, handshakeTo: map[serverUpstream]bool{}, fallbacks: map[*Node]map[string]bool{}}
	for _, loc := range c.All("location") {
		if target := divertTarget(loc); target != "" {
			d.divertedTo[target] = loc
		}
	}
	proxyPasses := c.All("proxy_pass")
	for _, pp := range proxyPasses {
		if blk := proxyBlock(pp); blk != nil && ownUpgradeHeader(blk) != nil {
			d.handshakeTo[serverUpstream{blk.Enclosing("server"), UpstreamName(pp.Arg(0))}] = true
		}
	}
	// Upstreams that plain (non-WebSocket) locations proxy to as well.
	plainUse := map[string]bool{}
	for _, pp := range proxyPasses {
		if pp.Enclosing("stream") != nil {
			continue // TCP proxying: no HTTP handshake to forward
		}
		blk := proxyBlock(pp)
		if blk == nil {
			continue
		}
		why, ok := d.reason(blk, pp)
		if !ok {
			plainUse[UpstreamName(pp.Arg(0))] = true
			continue
		}
		w.Locations[blk] = why
	}
	// In file order, so an upstream reached from several locations names
	// the same one on every run.
	for _, blk := range SortedNodes(w.Locations) {
		why := w.Locations[blk]
		pp := lastOwn(blk, "proxy_pass")
		if pp == nil {
			continue
		}
		name := UpstreamName(pp.Arg(0))
		if why.Polling == "" {
			switch {
			case plainUse[name]:
				why.Polling = "plain HTTP locations proxy to " + name + " too"
			case d.isCatchAll(blk) && !refusesPlainHTTP(blk):
				why.Polling = blk.Label() + " takes plain HTTP requests too"
			}
			w.Locations[blk] = why
		}
		if up := c.Upstream(name); up != nil {
			prev, seen := w.Upstreams[up]
			if !seen || prev.Generic && !why.Generic || prev.Polling == "" && why.Polling != "" || !prev.LongPoll && why.LongPoll {
				w.Upstreams[up] = proxy.Why{Reason: "the WebSocket " + blk.Label() + " proxies to it", Where: d.at(blk), Generic: why.Generic && (!seen || prev.Generic), Polling: firstNonEmpty(why.Polling, prev.Polling), LongPoll: why.LongPoll || prev.LongPoll}
			}
		}
	}
	return w
}

// serverUpstream is an upstream as proxied to from one server block.
type serverUpstream struct {
	server   *Node
	upstream string
}

// proxyBlock is the block a proxy_pass configures: its location or
// server, looking through if and limit_except.
func proxyBlock(pp *Node) *Node {
	blk := pp.Parent
	if blk != nil && (blk.Name == "if" || blk.Name == "limit_except") {
		blk = blk.Parent
	}
	return blk
}

// lastOwn returns the block's proxy_pass-like directive name, its own or
// one inside an if/limit_except in it.
func lastOwn(blk *Node, name string) *Node {
	if own := blk.Own(name); len(own) > 0 {
		return own[len(own)-1]
	}
	for _, ch := range blk.Children {
		if ch.Name == "if" || ch.Name == "limit_except" {
			if own := ch.Own(name); len(own) > 0 {
				return own[len(own)-1]
			}
		}
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// nginxWhere is "line N", or "file:N" for a line in an included file.
func nginxWhere(c *Config, n *Node) string {
	if n.File != "" && n.File != c.File {
		return fmt.Sprintf("%s:%d", filepath.Base(n.File), n.Line)
	}
	return fmt.Sprintf("line %d", n.Line)
}

// nginxDetector is what deciding one proxying block needs to know about
// the rest of the config.
type nginxDetector struct {
	c   *Config
	all bool
	// divertedTo maps named locations to the location that diverts
	// handshakes there.
	divertedTo map[string]*Node
	// handshakeTo holds the upstreams that a block of a server forwards
	// the handshake to itself: there a reader sees where the WebSockets
	// go, and another block proxying to the same upstream without
	// Upgrade headers is the plain HTTP route, whatever the upstream's
	// name says.
	handshakeTo map[serverUpstream]bool
	// fallbacks caches rootFallbacks by block.
	fallbacks map[*Node]map[string]bool
}

func (d *nginxDetector) at(n *Node) string { return nginxWhere(d.c, n) }

// reason decides whether one proxying block serves WebSockets.
func (d *nginxDetector) reason(blk, pp *Node) (proxy.Why, bool) {
	path := ""
	if blk.Name == "location" {
		path = LastArg(blk)
	}
	polling, longPoll := "", false
	if text := LocationText(blk); blk.Name == "location" && proxy.PollingPath(text) {
		polling = "its path " + path + " is a long-polling capable endpoint"
		longPoll = proxy.LongPollRe.MatchString(text)
	}
	up := UpstreamName(pp.Arg(0))
	if polling == "" && proxy.PollingNameRe.MatchString(up) {
		polling = "its upstream " + up + " names a long-polling capable stack"
		longPoll = proxy.LongPollRe.MatchString(up)
	}
	why, ok := d.sign(blk, pp, path, up)
	if ok {
		why.Polling, why.LongPoll = polling, longPoll
	}
	return why, ok
}

// sign finds the sign that a proxying block serves WebSockets.
func (d *nginxDetector) sign(blk, pp *Node, path, up string) (proxy.Why, bool) {
	switch {
	case d.all:
		return proxy.Why{Reason: "--websocket all is given"}, true
	case divertTarget(blk) != "":
		return proxy.Why{}, false // handshakes go to the named location
	case blk.Name == "location" && d.divertedTo[path] != nil:
		return proxy.Why{Reason: "WebSocket handshakes are sent here from " + d.divertedTo[path].Label(), Where: d.at(d.divertedTo[path])}, true
	}
	if h := ownUpgradeHeader(blk); h != nil {
		generic := d.isCatchAll(blk) && strings.Contains(h.Arg(1), "$") && !proxy.IsWebSocketName(up)
		return proxy.Why{Reason: "it sets proxy_set_header " + h.Arg(0), Where: d.at(h), Generic: generic}, true
	}
	if len(blk.Own("proxy_set_header")) > 0 {
		if h := upgradeIntentHeader(blk.Parent); h != nil {
			return proxy.Why{Reason: "the enclosing " + h.Parent.Name + " sets proxy_set_header " + h.Arg(0), Where: d.at(h)}, true
		}
	}
	switch {
	case blk.Name == "location" && (proxy.IsWebSocketPath(path) || RegexNamesWebSocketPath(blk) || proxy.IsPureWebSocketPath(path)):
		return proxy.Why{Reason: "its path " + path + " is a well-known WebSocket endpoint", Where: d.at(blk)}, true
	case proxy.IsWebSocketName(up) && !d.handshakeTo[serverUpstream{blk.Enclosing("server"), up}]:
		return proxy.Why{Reason: "it proxies to " + up, Where: d.at(pp)}, true
	}
	return proxy.Why{}, false
}

// isCatchAll reports whether a block takes every request of its server:
// location /, proxy_pass at server level, or the named location that
// location /'s try_files falls back to (try_files $uri @app).
func (d *nginxDetector) isCatchAll(blk *Node) bool {
	if blk.Name == "server" || blk.Name == "location" && len(blk.Args) == 1 && blk.Args[0] == "/" {
		return true
	}
	name := LastArg(blk)
	if blk.Name != "location" || !strings.HasPrefix(name, "@") || blk.Parent == nil {
		return false
	}
	return d.rootFallbacks(blk.Parent)[name]
}

// rootFallbacks returns what the try_files of block b's location / fall
// back to, read once per block: scanning b's locations for each named
// location in it is quadratic in a server with thousands of them.
func (d *nginxDetector) rootFallbacks(b *Node) map[string]bool {
	if fb, ok := d.fallbacks[b]; ok {
		return fb
	}
	fb := map[string]bool{}
	for _, loc := range b.Own("location") {
		if len(loc.Args) == 1 && loc.Args[0] == "/" {
			for _, tf := range loc.Own("try_files") {
				fb[LastArg(tf)] = true
			}
		}
	}
	d.fallbacks[b] = fb
	return fb
}

// refusesPlainHTTP reports whether a block answers every request that is
// not a WebSocket handshake itself: if ($is_websocket = 0) { return 404; }
// or if ($http_upgrade != "websocket") { return 403; }. Plain HTTP then
// never reaches its servers, even on a catch-all location.
func refusesPlainHTTP(blk *Node) bool {
	for _, cond := range blk.Own("if") {
		test, ok := handshakeTest(cond)
		if !ok {
			continue
		}
		negated := strings.HasPrefix(test, "!") || strings.Contains(test, "!=") ||
			len(cond.Args) == 3 && cond.Args[1] == "=" && (cond.Args[2] == "0" || cond.Args[2] == "" || cond.Args[2] == `""`)
		if negated && len(cond.Own("return")) > 0 {
			return true
		}
	}
	return false
}

// handshakeTest returns an if block's condition, lower-cased, when it
// tests for WebSocket handshakes: it names an upgrade or websocket
// variable ($http_upgrade, $is_websocket, $is_ws).
func handshakeTest(cond *Node) (string, bool) {
	test := strings.ToLower(strings.Join(cond.Args, " "))
	return test, strings.Contains(test, "upgrade") || strings.Contains(test, "websocket") || strings.Contains(test, "_ws")
}

// divertTarget returns the named location a block sends WebSocket
// handshakes to: an if on an upgrade/websocket variable that returns a
// code the block (or its server) maps with error_page to @name.
func divertTarget(blk *Node) string {
	for _, cond := range blk.Own("if") {
		if _, ok := handshakeTest(cond); !ok {
			continue
		}
		for _, ret := range cond.Own("return") {
			code := ret.Arg(0)
			for b := blk; b != nil; b = b.Parent {
				for _, ep := range b.Own("error_page") {
					if slices.Contains(ep.Args, code) {
						target := strings.TrimLeft(LastArg(ep), "=")
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

// ownUpgradeHeader returns the block's own proxy_set_header line that
// forwards the handshake (Upgrade, or Connection to an upgrade value).
// An empty value removes the header: Upgrade "" keeps handshakes out.
func ownUpgradeHeader(n *Node) *Node {
	for _, h := range n.Own("proxy_set_header") {
		name := strings.ToLower(h.Arg(0))
		if name == "upgrade" && strings.TrimSpace(h.Arg(1)) != "" || name == "connection" && ConnectionUpgrades(h.Arg(1)) {
			return h
		}
	}
	return nil
}

// UpgradeIntent reports whether the block or any enclosing block sets
// proxy_set_header Upgrade, or Connection to an upgrade value: the
// author meant WebSockets here even if inheritance later drops it.
func UpgradeIntent(n *Node) bool { return upgradeIntentHeader(n) != nil }

func upgradeIntentHeader(n *Node) *Node {
	for b := n; b != nil; b = b.Parent {
		if h := ownUpgradeHeader(b); h != nil {
			return h
		}
	}
	return nil
}

// ConnectionUpgrades reports whether a Connection header value can carry
// "upgrade": the literal, or a variable (mapped from $http_upgrade).
func ConnectionUpgrades(v string) bool {
	return strings.EqualFold(strings.TrimSpace(v), "upgrade") || strings.Contains(v, "$")
}

func LastArg(n *Node) string {
	if len(n.Args) == 0 {
		return ""
	}
	return n.Args[len(n.Args)-1]
}

// UpstreamName extracts the host part of a proxy_pass URL; nginx matches
// it against upstream names. An IPv6 address keeps its brackets.
func UpstreamName(target string) string {
	t := ProxyAuthority(target)
	if strings.HasPrefix(t, "unix:") {
		return ""
	}
	if strings.HasPrefix(t, "[") {
		if i := strings.IndexByte(t, ']'); i >= 0 {
			return t[:i+1]
		}
		return t
	}
	if i := strings.LastIndexByte(t, ':'); i >= 0 {
		t = t[:i]
	}
	return t
}

// ProxyAuthority is the host[:port] of a proxy_pass URL: the text
// between the scheme and the path.
func ProxyAuthority(target string) string {
	t := target
	if i := strings.Index(t, "://"); i >= 0 {
		t = t[i+3:]
	}
	if i := strings.IndexByte(t, '/'); i >= 0 {
		t = t[:i]
	}
	return t
}

// regexAsPath undoes a location regex's escapes, groups and anchors:
// ^/(socket\.io|ws)/ reads //socket.io/ws//, where path words show.
var regexAsPath = strings.NewReplacer(`\.`, ".", "(", "/", ")", "/", "|", "/", "^", "", "$", "", "?", "")

// LocationText is a location's arguments as one path-like string, a
// regex location's pattern read through regexAsPath.
func LocationText(loc *Node) string {
	if len(loc.Args) >= 2 && strings.HasPrefix(loc.Args[0], "~") {
		return regexAsPath.Replace(loc.Args[1])
	}
	return strings.Join(loc.Args, " ")
}

// RegexNamesWebSocketPath catches regex locations such as
// ~ ^/(socket\.io|ws)/ that list a well-known WebSocket path.
func RegexNamesWebSocketPath(loc *Node) bool {
	if len(loc.Args) < 2 || !strings.HasPrefix(loc.Args[0], "~") {
		return false
	}
	for _, part := range strings.Split(regexAsPath.Replace(loc.Args[1]), "/") {
		if part != "" && proxy.IsWebSocketPath("/"+part) {
			return true
		}
	}
	return false
}

// SortedNodes returns map keys in file/line order for stable output.
func SortedNodes[V any](m map[*Node]V) []*Node {
	out := make([]*Node, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out
}
