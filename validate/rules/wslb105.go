package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB105", Slug: "nginx-websocket-upstream-no-affinity", Severity: finding.Warning,
			Title:     "A WebSocket upstream with several servers has no affinity",
			Rationale: "Socket.IO, SockJS and SignalR fall back to long-polling, and clients reconnect: every request of a session must reach the server that holds it, or the client gets 'Session ID unknown' and reconnect storms.",
			Fix:       "Add ip_hash; or hash $cookie_sid consistent; (or sticky cookie on nginx >= 1.29.6 / NGINX Plus) to the upstream",
		},
		Proxy: "nginx",
		Nginx: checkUpstreamAffinity,
	})
}

// affinityDirectives pin a client to a server in an upstream block.
var affinityDirectives = []string{"ip_hash", "hash", "sticky"}

func checkUpstreamAffinity(p *NginxPass) {
	for _, up := range nginx.SortedNodes(p.WS.Upstreams) {
		why := p.WS.Upstreams[up]
		if activeServers(up) < 2 || hasAny(up, affinityDirectives...) || why.Polling == "" {
			continue // a pure WebSocket stays on the server it connected to
		}
		p.Report(up, fmt.Sprintf("upstream %s carries WebSockets (because %s) with %d servers and no ip_hash, hash or sticky; %s, so when clients long-poll or reconnect their requests land on servers that do not know the session", up.Arg(0), why, activeServers(up), why.Polling), "")
	}
	// Long-polling transports under a prefix of the application's
	// choosing need the same affinity, WebSocket or not.
	seen := map[*nginx.Node]bool{}
	for _, t := range nginxTransports(p.Config) {
		up := p.Config.Upstream(nginx.UpstreamName(t.proxyPass.Arg(0)))
		if up == nil || seen[up] || activeServers(up) < 2 || hasAny(up, affinityDirectives...) {
			continue
		}
		if why, ok := p.WS.Upstreams[up]; ok && why.Polling != "" {
			continue // reported above
		}
		seen[up] = true
		p.Report(up, fmt.Sprintf("upstream %s serves %s (%s on line %d) with %d servers and no ip_hash, hash or sticky; every request of a session must reach the server that holds it, so when clients long-poll their requests land on servers that do not know the session", up.Arg(0), t.stack, t.loc.Label(), t.loc.Line, activeServers(up)), "")
	}
}

// activeServers counts an upstream's server lines that take traffic
// (not backup, not down).
func activeServers(up *nginx.Node) int {
	n := 0
	for _, s := range up.Own("server") {
		passive := false
		for _, a := range s.Args[min(1, len(s.Args)):] { // after the address
			if a == "backup" || a == "down" {
				passive = true
			}
		}
		if !passive {
			n++
		}
	}
	return n
}

func hasAny(n *nginx.Node, names ...string) bool {
	for _, name := range names {
		if len(n.Own(name)) > 0 {
			return true
		}
	}
	return false
}
