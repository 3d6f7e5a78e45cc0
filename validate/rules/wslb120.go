package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB120", Slug: "nginx-poll-transport-timeout-short", Severity: finding.Warning,
			Title:     "proxy_read_timeout is shorter than a long-polling transport holds a request",
			Rationale: "SockJS's xhr, xhr_streaming, eventsource and htmlfile transports and SignalR's long polling hold each request open for up to the stack's ping interval (Engine.IO's default is 25s, SockJS's heartbeat 25s). A location that serves those transports under its own prefix, without carrying WebSockets, still needs proxy_read_timeout above the hold.",
			Fix:       "proxy_read_timeout 60s; (or more) in the location that serves the transport",
		},
		Proxy: "nginx",
		Nginx: checkNginxTransportTimeout,
	})
}

// checkNginxTransportTimeout covers the proxying locations the route
// detector does not see as long-polling (WSLB113 judges those): a
// location whose path is a transport endpoint of a long-polling stack.
func checkNginxTransportTimeout(p *NginxPass) {
	seen := map[*nginx.Node]bool{}
	for _, loc := range p.Config.All("location") {
		if why, ok := p.WS.Locations[loc]; ok && why.LongPoll || !proxiesHTTP(loc) {
			continue
		}
		path := strings.Join(loc.Args, " ")
		stack, ok := proxy.PollTransport(path)
		if !ok {
			continue
		}
		d := loc.EffectiveOne("proxy_read_timeout")
		if d == nil {
			continue // the 60s default holds a poll
		}
		v, ok := nginx.ParseDuration(d.Arg(0))
		if !ok || v >= minPollTimeout || seen[d] {
			continue
		}
		seen[d] = true
		p.Report(d, fmt.Sprintf("proxy_read_timeout %s applies to %s, which serves %s: its requests are held up to %s (Engine.IO's and SockJS's ping interval), so idle polls end in 504 when clients long-poll", d.Arg(0), loc.Label(), stack, formatDuration(engineIOPingInterval)), "")
	}
}

// proxiesHTTP reports whether a location proxy_passes, itself or in an
// if or limit_except inside it.
func proxiesHTTP(loc *nginx.Node) bool {
	if len(loc.Own("proxy_pass")) > 0 {
		return true
	}
	for _, ch := range loc.Children {
		if (ch.Name == "if" || ch.Name == "limit_except") && len(ch.Own("proxy_pass")) > 0 {
			return true
		}
	}
	return false
}
