package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB204", Slug: "haproxy-websocket-backend-no-affinity", Severity: finding.Warning,
			Title:     "A WebSocket backend with several servers has no affinity",
			Rationale: "Socket.IO, SockJS and SignalR fall back to long-polling and clients reconnect: without a hash balance, cookie or stick table, each request may hit another server, which answers 'Session ID unknown'.",
			Fix:       "cookie SRV insert indirect nocache with 'cookie <name>' on each server, or balance source + hash-type consistent, or a stick table",
		},
		Proxy:   "haproxy",
		HAProxy: checkBackendAffinity,
	})
}

func checkBackendAffinity(p *HAProxyPass) {
	for _, be := range sortedSections(p.WS.Backends) {
		n := activeServerCount(be)
		why := p.WS.Backends[be]
		if n < 2 || hasAffinity(be) || why.Polling == "" || serversHaveCookies(be) {
			continue // a pure WebSocket stays on the server it connected to
		}
		p.ReportSection(be, fmt.Sprintf("%s carries WebSockets (because %s) with %d servers and no affinity (hash balance, cookie or stick table); %s, so when clients long-poll or reconnect their requests land on servers that do not know the session", be.Label(), why, n, why.Polling), "")
	}
	// Long-polling transports under a prefix of the application's
	// choosing need the same affinity, WebSocket or not.
	seen := map[*haproxy.Section]bool{}
	for _, t := range haproxyTransports(p.Config) {
		n := activeServerCount(t.be)
		if seen[t.be] || n < 2 || hasAffinity(t.be) || serversHaveCookies(t.be) {
			continue
		}
		if why, ok := p.WS.Backends[t.be]; ok && why.Polling != "" {
			continue // reported above
		}
		seen[t.be] = true
		p.ReportSection(t.be, fmt.Sprintf("%s serves %s (use_backend on line %d) with %d servers and no affinity (hash balance, cookie or stick table); every request of a session must reach the server that holds it, so when clients long-poll their requests land on servers that do not know the session", t.be.Label(), t.stack, t.use.Line, n), "")
	}
}

// hasAffinity reports whether a backend pins clients to servers.
func hasAffinity(s *haproxy.Section) bool {
	if balanceHash(s.Lookup("balance")) != "" {
		return true
	}
	if s.Lookup("cookie") != nil {
		return true
	}
	for _, d := range s.Directives {
		if d.Keyword == "stick" || d.Keyword == "stick-on" {
			return true
		}
	}
	return false
}

// serversHaveCookies reports whether servers carry cookie values: the
// affinity is meant, and WSLB218 reports the missing cookie line.
func serversHaveCookies(be *haproxy.Section) bool {
	for _, d := range be.Servers() {
		if v, _ := serverCookie(d); v != "" {
			return true
		}
	}
	return false
}
