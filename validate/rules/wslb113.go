package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB113", Slug: "nginx-long-poll-timeout-short", Severity: finding.Warning,
			Title:     "proxy_read_timeout is shorter than a long-poll is held",
			Rationale: "Socket.IO (Engine.IO), SockJS and SignalR long-polling hold each poll open until there is data or the ping interval (25s by default for Engine.IO) passes. nginx gives up on a silent upstream after proxy_read_timeout: below ~30s idle polls end in 504 and the client reconnects in a loop.",
			Fix:       "proxy_read_timeout 60s; (or more) in the long-polling location",
		},
		Proxy: "nginx",
		Nginx: checkNginxPollTimeout,
	})
}

func checkNginxPollTimeout(p *NginxPass) {
	for _, blk := range nginx.SortedNodes(p.WS.Locations) {
		why := p.WS.Locations[blk]
		if !why.LongPoll {
			continue
		}
		d := blk.EffectiveOne("proxy_read_timeout")
		if d == nil {
			continue // the 60s default holds a poll
		}
		v, ok := nginx.ParseDuration(d.Arg(0))
		if !ok || v >= minPollTimeout {
			continue
		}
		p.Report(d, fmt.Sprintf("proxy_read_timeout %s applies to %s, which carries long-polling (%s): polls are held up to %s (Engine.IO's ping interval), so idle polls end in 504 when clients long-poll", d.Arg(0), blk.Label(), why.Polling, formatDuration(engineIOPingInterval)), "")
	}
}
