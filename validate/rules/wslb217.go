package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB217", Slug: "haproxy-long-poll-timeout-short", Severity: finding.Warning,
			Title:     "timeout server is shorter than a long-poll is held",
			Rationale: "Socket.IO (Engine.IO), SockJS and SignalR long-polling hold each poll open until there is data or the ping interval (25s by default for Engine.IO) passes. Until the connection is upgraded, HAProxy applies timeout server to that silent response: below ~30s it answers 504 to idle polls and the client reconnects in a loop.",
			Fix:       "timeout server 60s (timeout tunnel then governs the upgraded WebSocket)",
		},
		Proxy:   "haproxy",
		HAProxy: checkPollTimeout,
	})
}

func checkPollTimeout(p *HAProxyPass) {
	seen := map[*haproxy.Directive]bool{}
	for _, be := range sortedSections(p.WS.Backends) {
		why := p.WS.Backends[be]
		if !why.LongPoll {
			continue
		}
		v, d, ok := be.Timeout("server")
		if !ok || v >= minPollTimeout || seen[d] {
			continue
		}
		seen[d] = true
		p.Report(d, fmt.Sprintf("timeout server %s applies to %s, which carries long-polling (%s): polls are held up to %s (Engine.IO's ping interval), so idle polls are cut when clients long-poll", d.Arg(1), be.Label(), why.Polling, formatDuration(engineIOPingInterval)), "")
	}
}
