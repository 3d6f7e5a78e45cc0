package topology

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// webSocketSegments are path segments that conventionally carry WebSockets
// (plain endpoints, Socket.IO, SockJS, Rails Action Cable, SignalR hubs,
// GraphQL subscriptions). A route whose path contains one marks its pool as
// a WebSocket pool even without `websocket = true`. validate's rules know
// at least these, so generated configs pass wslb's own lint.
var webSocketSegments = map[string]bool{
	"ws": true, "wss": true, "websocket": true, "websockets": true,
	"socket.io": true, "sockjs": true, "cable": true,
	"hub": true, "hubs": true, "signalr": true,
	"graphql-ws": true, "subscriptions": true,
}

// IsWebSocketPath reports whether a path prefix is one known to carry
// WebSockets.
func IsWebSocketPath(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if webSocketSegments[strings.ToLower(seg)] {
			return true
		}
	}
	return false
}

// IsSocketIOPath reports whether a path prefix is a Socket.IO endpoint,
// whose HTTP long-polling transport needs affinity.
func IsSocketIOPath(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if strings.EqualFold(seg, "socket.io") {
			return true
		}
	}
	return false
}

// pollingSegments are path segments of WebSocket libraries with an HTTP
// long-polling fallback, whose polling requests must reach the server
// that opened the session (SockJS's xhr-polling, SignalR's long polling;
// Socket.IO has its own, stricter check).
var pollingSegments = map[string]bool{"sockjs": true, "signalr": true}

// IsPollingPath reports whether a path prefix is an endpoint whose
// clients may fall back to HTTP long-polling.
func IsPollingPath(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if pollingSegments[strings.ToLower(seg)] {
			return true
		}
	}
	return false
}

// check runs the semantic checks that span several elements, applies the
// defaults that depend on them, and derives Pool.WebSocket and
// Limits.MaxConns.
func (d *decoder) check(ld *loaded) {
	t := ld.topo
	d.checkDuplicates(ld)
	d.checkTimeouts(ld)

	if len(t.Listeners) == 0 {
		d.errorf(d.fileStart(), "No listener",
			"A topology needs at least one listener, e.g.\n  listener \"public\" { address = \"0.0.0.0:8080\" }")
	}
	if len(t.Pools) == 0 {
		d.errorf(d.fileStart(), "No pool",
			"A topology needs at least one pool of servers, e.g.\n  pool \"web\" { server \"web1\" { address = \"10.0.0.11:8080\" } }")
	}
	if len(t.Routes) == 0 {
		switch len(t.Pools) {
		case 0:
		case 1:
			// One pool and no routes: everything goes to that pool.
			p := t.Pools[0]
			t.Routes = []*Route{{Name: "default", PathPrefix: "/", Pool: p.Name, Range: p.Range}}
		default:
			d.errorf(d.fileStart(), "No route",
				"With %d pools wslb cannot guess where requests go. Add route blocks, e.g.\n  route \"web\" { path = \"/\" pool = %q }",
				len(t.Pools), t.Pools[0].Name)
		}
	}
	ld.index()
	d.checkReferences(ld)
	d.checkUnused(ld)
	d.checkRouteOrder(ld)
	for _, ps := range ld.pools {
		d.checkPool(ld, ps)
	}
	d.deriveMaxConns(ld)
}

// checkDuplicates reports repeated names and listen addresses, pointing at
// the repeat and naming the first's line.
func (d *decoder) checkDuplicates(ld *loaded) {
	type seen map[string]hcl.Range
	dup := func(s seen, kind, name string, r hcl.Range) {
		if first, ok := s[name]; ok {
			d.errorf(r, "Duplicate "+kind, "A %s named %q is already defined at line %d. Names must be unique; rename one.", kind, name, first.Start.Line)
			return
		}
		s[name] = r
	}
	listeners, addrs, routes, pools := seen{}, seen{}, seen{}, seen{}
	for _, ls := range ld.listeners {
		dup(listeners, "listener", ls.l.Name, ls.name)
		if ls.l.Address.Port == 0 {
			continue // invalid address, already reported
		}
		key := ls.l.Address
		if key.Host == "*" {
			key.Host = "0.0.0.0"
		}
		if first, ok := addrs[key.String()]; ok {
			d.errorf(ls.a.at("address"), "Duplicate listener address",
				"The listener at line %d already listens on %s; two listeners cannot bind the same address. Merge them or change the port.",
				first.Start.Line, key.String())
		} else {
			addrs[key.String()] = ls.a.at("address")
		}
	}
	for _, rs := range ld.routes {
		dup(routes, "route", rs.r.Name, rs.name)
	}
	for _, ps := range ld.pools {
		dup(pools, "pool", ps.p.Name, ps.name)
		servers := seen{}
		for _, ss := range ps.servers {
			dup(servers, "server", ss.s.Name, ss.name)
		}
	}
}

func (d *decoder) checkTimeouts(ld *loaded) {
	to, a := ld.topo.Timeouts, ld.timeouts
	if a.has("tunnel") && to.Tunnel < time.Second {
		d.errorf(a.at("tunnel"), "Tunnel timeout too short",
			"timeout tunnel is %s; idle WebSockets would be cut almost at once. Use at least \"1s\" (the default is %s).",
			to.Tunnel, DefaultTunnelTimeout)
	}
	if to.ClientFin > to.Tunnel {
		d.warnf(a.at("client_fin"), "client_fin longer than tunnel",
			"client_fin (%s) is longer than the tunnel timeout (%s), so half-closed WebSockets outlive idle ones. Use a client_fin at most the tunnel timeout.",
			to.ClientFin, to.Tunnel)
	}
}

// checkReferences resolves route → pool and route → listener names.
func (d *decoder) checkReferences(ld *loaded) {
	t := ld.topo
	var poolNames, listenerNames []string
	for _, p := range t.Pools {
		poolNames = append(poolNames, p.Name)
	}
	for _, l := range t.Listeners {
		listenerNames = append(listenerNames, l.Name)
	}
	for _, rs := range ld.routes {
		d.steps++
		r := rs.r
		if r.Pool != "" && ld.poolByName[r.Pool] == nil {
			d.errorf(rs.a.at("pool"), "Undefined pool",
				"Route %q sends requests to pool %q, which is not defined. Define it with pool %q { ... } or use one of: %s.%s",
				r.Name, r.Pool, r.Pool, quoteList(poolNames), suggest(r.Pool, poolNames))
		}
		if r.Listener != "" && !ld.listenerNames[r.Listener] {
			d.errorf(rs.a.at("listener"), "Undefined listener",
				"Route %q belongs to listener %q, which is not defined. Use one of: %s, or remove the argument to route on every listener.%s",
				r.Name, r.Listener, quoteList(listenerNames), suggest(r.Listener, listenerNames))
		}
	}
}

// checkUnused warns about pools no route sends requests to and listeners
// no route serves, which are almost always a typo or a leftover.
func (d *decoder) checkUnused(ld *loaded) {
	t := ld.topo
	usedPools, allListeners, usedListeners := map[string]bool{}, false, map[string]bool{}
	for _, r := range t.Routes {
		usedPools[r.Pool] = true
		if r.Listener == "" {
			allListeners = true
		}
		usedListeners[r.Listener] = true
	}
	// A route to an undefined or invalid pool name is likely the typo that
	// leaves a pool unused; its error says enough.
	danglingRoute := len(t.Routes) == 0
	for _, rs := range ld.routes {
		d.steps++
		danglingRoute = danglingRoute || !rs.a.valid("pool") || ld.poolByName[rs.r.Pool] == nil
	}
	for _, p := range t.Pools {
		if !danglingRoute && !usedPools[p.Name] {
			d.warnf(p.Range, "Unused pool",
				"No route sends requests to pool %q. Add a route with pool = %q, or remove the pool.", p.Name, p.Name)
		}
	}
	for _, l := range t.Listeners {
		if len(t.Routes) > 0 && !allListeners && !usedListeners[l.Name] {
			d.warnf(l.Range, "Listener without routes",
				"Every route names another listener, so listener %q would answer every request with 404. Add a route with listener = %q, or remove the listener.", l.Name, l.Name)
		}
	}
}

// checkRouteOrder warns about routes that an earlier route always wins
// over: routes are tried in order, paths match by plain prefix and hosts
// case-insensitively. An earlier route covers a later one when its path is
// a prefix of the later path, its host is empty or the same, its listener
// empty or the same, and it is not WebSocket-only unless the later one is.
// Earlier routes are indexed by path and host so that thousands of routes
// cost a lookup per prefix of each path, not a comparison per pair.
func (d *decoder) checkRouteOrder(ld *loaded) {
	type key struct{ path, host string }
	// first holds, per path and host, the earliest route for each
	// listener ("" = all) and WebSocket-only flag.
	type slot struct {
		listener string
		ws       bool
	}
	first := map[key]map[slot]int{}
	var routes []*routeSrc
	for _, rs := range ld.routes {
		// Routes with a rejected condition would compare as their defaults.
		if rs.a.valid("path", "host", "websocket", "listener") {
			routes = append(routes, rs)
		}
	}
	for j, later := range routes {
		l := later.r
		host := strings.ToLower(l.Host)
		// The earlier routes that can cover this one: any host or its
		// own, any listener or its own, WebSocket-only only if it is.
		hosts := []string{""}
		if host != "" {
			hosts = append(hosts, host)
		}
		covering := []slot{{"", false}, {l.Listener, false}}
		if l.WebSocketOnly {
			covering = append(covering, slot{"", true}, slot{l.Listener, true})
		}
		best := -1
		for n := 1; n <= len(l.PathPrefix); n++ {
			for _, h := range hosts {
				d.steps++
				slots := first[key{l.PathPrefix[:n], h}]
				for _, s := range covering {
					if i, ok := slots[s]; ok && (best < 0 || i < best) {
						best = i
					}
				}
			}
		}
		if best >= 0 {
			e := routes[best].r
			d.warnf(l.Range, "Unreachable route",
				"Route %q at line %d already matches every request route %q matches, and routes are tried in order. Move this route above it.",
				e.Name, e.Range.Start.Line, l.Name)
		}
		k := key{l.PathPrefix, host}
		if first[k] == nil {
			first[k] = map[slot]int{}
		}
		if _, ok := first[k][slot{l.Listener, l.WebSocketOnly}]; !ok {
			first[k][slot{l.Listener, l.WebSocketOnly}] = j
		}
	}
}

func (d *decoder) checkPool(ld *loaded, ps *poolSrc) {
	p, t := ps.p, ld.topo
	primaries := 0
	for _, s := range p.Servers {
		if !s.Backup {
			primaries++
		}
	}
	switch {
	case p.Service != nil && len(p.Servers) > 0:
		d.errorf(p.Service.Range, "Pool with servers and a Kubernetes Service",
			"Pool %q names the Kubernetes Service %q and has server blocks too. Keep one: the Service's endpoints, or the servers.", p.Name, p.Service)
	case p.Service != nil || ps.a.has("kubernetes_service"):
		// The Service's endpoints are the servers (a rejected Service
		// has its own error).
	case len(p.Servers) == 0:
		d.errorf(p.Range, "Pool without servers",
			"Pool %q has no servers. Add at least one: server \"s1\" { address = \"10.0.0.11:8080\" }.", p.Name)
	case primaries == 0:
		d.errorf(p.Range, "Pool with only backup servers",
			"Every server of pool %q is a backup, so none would take traffic. Make at least one server a non-backup (remove backup = true).", p.Name)
	}

	// Derive WebSocket from the routes unless the pool says so itself.
	var wsRoute, sioRoute, pollRoute *routeSrc
	for _, rs := range ld.routesTo[p.Name] {
		d.steps++
		if wsRoute == nil && (rs.r.WebSocketOnly || IsWebSocketPath(rs.r.PathPrefix)) {
			wsRoute = rs
		}
		// A broker pool's WebSocket-only route gets no polling request.
		if sioRoute == nil && IsSocketIOPath(rs.r.PathPrefix) && (p.Broker == nil || !rs.r.WebSocketOnly) {
			sioRoute = rs
		}
		if pollRoute == nil && !rs.r.WebSocketOnly && IsPollingPath(rs.r.PathPrefix) {
			pollRoute = rs
		}
	}
	switch {
	case !ps.a.has("websocket"):
		p.WebSocket = wsRoute != nil
	case !p.WebSocket && wsRoute != nil:
		d.errorf(ps.a.at("websocket"), "Pool websocket setting contradicts route",
			"Pool %q says websocket = false, but route %q at line %d sends WebSocket traffic to it. Remove websocket = false.",
			p.Name, wsRoute.r.Name, wsRoute.r.Range.Start.Line)
	}

	if h := p.Health; h.Enabled && t.Timeouts.Tunnel < h.Interval {
		r := ld.timeouts.at("tunnel")
		if !ld.timeouts.has("tunnel") && ps.health != nil {
			r = ps.health.at("interval")
		}
		d.errorf(r, "Tunnel timeout shorter than health check interval",
			"The tunnel timeout (%s) is shorter than pool %q's health check interval (%s): idle WebSockets would be closed before a failed server is even noticed. Raise the tunnel timeout or shorten the interval.",
			t.Timeouts.Tunnel, p.Name, h.Interval)
	}

	d.checkCookieServers(ld, ps)

	// A Service has as many endpoints as it has pods: assume several.
	servers := fmt.Sprintf("%d servers", primaries)
	if p.Service != nil && len(p.Servers) == 0 {
		primaries, servers = 2, fmt.Sprintf("the endpoints of Kubernetes Service %q", p.Service)
	}
	if p.Affinity.Mode != AffinityNone || primaries < 2 {
		return
	}
	switch {
	case sioRoute != nil:
		also := ""
		if p.Broker != nil {
			also = " The pool's broker shares messages between the servers, not polling sessions: it does not remove this need."
		}
		d.errorf(p.Range, "Socket.IO without affinity",
			"Route %q at line %d sends Socket.IO (%s) to pool %q, which has %s and no affinity. Socket.IO's HTTP long-polling requests must all reach the server that opened the session, otherwise clients fail with \"Session ID unknown\".%s Add an affinity block, e.g. affinity { mode = \"cookie\" cookie = \"WSLB_SRV\" } or affinity { mode = \"source\" }.",
			sioRoute.r.Name, sioRoute.r.Range.Start.Line, sioRoute.r.PathPrefix, p.Name, servers, also)
	case p.Broker != nil && pollRoute != nil:
		d.errorf(p.Range, "HTTP long-polling without affinity",
			"Route %q at line %d sends %s to pool %q, whose servers share messages through a broker but have no affinity. Its HTTP long-polling fallback must keep reaching the server that opened the session; a broker shares messages, not sessions. Add an affinity block, e.g. affinity { mode = \"cookie\" cookie = \"WSLB_SRV\" }, or route only WebSockets to this pool (websocket = true).",
			pollRoute.r.Name, pollRoute.r.Range.Start.Line, pollRoute.r.PathPrefix, p.Name)
	case p.Broker != nil:
		// The servers share messages through the broker: affinity none
		// is the design, not an oversight.
	case p.WebSocket && ps.affinity == nil:
		d.warnf(p.Range, "WebSocket pool without affinity",
			"Pool %q carries WebSockets over %s without affinity, so a reconnecting client may land on another server and lose its state. Add an affinity block unless the servers share state, e.g. affinity { mode = \"cookie\" cookie = \"WSLB_SRV\" } or affinity { mode = \"source\" }; if they do share state (Redis, a database, a broker), write affinity { mode = \"none\" } to say so.",
			p.Name, servers)
	}
}

// NginxSticky is the first NGINX open-source release with `sticky cookie`.
var NginxSticky = Version{Major: 1, Minor: 29, Patch: 6}

// checkCookieServers: without `sticky`, NGINX cookie affinity recognises the
// server that answered by $upstream_addr, which is always an IP address, so
// servers named by host name could never be pinned.
func (d *decoder) checkCookieServers(ld *loaded, ps *poolSrc) {
	t := ld.topo
	// Only a topology that targets NGINX (a wslb with it registered).
	nginx, ok := t.Targets.Versions["nginx"]
	if !ok || ps.p.Affinity.Mode != AffinityCookie || nginx.AtLeast(NginxSticky.Major, NginxSticky.Minor, NginxSticky.Patch) {
		return
	}
	for _, ss := range ps.servers {
		if h := ss.s.Address.Host; h != "" && !isIP(h) {
			d.errorf(ss.a.at("address"), "Cookie affinity needs IP server addresses",
				"Pool %q uses cookie affinity and targets NGINX %s, which has no open-source sticky cookie: wslb recognises the answering server by its IP address, so server %q cannot use the host name %q. Give its IP address, or target NGINX 1.29.6 or later (target { nginx = \"1.29.6\" }).",
				ps.p.Name, nginx, ss.s.Name, h)
		}
	}
}

// deriveMaxConns fills Limits.MaxConns when unset: the sum of the primary
// servers' max_conns when every one has a limit, DefaultMaxConns otherwise.
func (d *decoder) deriveMaxConns(ld *loaded) {
	l := &ld.topo.Limits
	if ld.limits.has("max_conns") {
		return
	}
	sum := 0
	for _, p := range ld.topo.Pools {
		if p.Service != nil {
			// A Service's endpoints have no limits wslb knows of.
			l.MaxConns = DefaultMaxConns
			return
		}
		for _, s := range p.Servers {
			if s.Backup {
				continue
			}
			if s.MaxConns == 0 {
				l.MaxConns = DefaultMaxConns
				return
			}
			sum += s.MaxConns
		}
	}
	switch {
	case sum == 0:
		l.MaxConns = DefaultMaxConns
	case sum > MaxConnsLimit:
		l.MaxConns = MaxConnsLimit
	default:
		l.MaxConns = sum
	}
}

// sortedAttrNames returns the attribute names in source order.
func sortedAttrNames(m hcl.Attributes) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return m[names[i]].Range.Start.Byte < m[names[j]].Range.Start.Byte })
	return names
}
