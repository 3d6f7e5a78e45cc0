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
	for _, t := range nginxTransports(p.Config) {
		if why, ok := p.WS.Locations[t.loc]; ok && why.LongPoll {
			continue
		}
		d := t.loc.EffectiveOne("proxy_read_timeout")
		if d == nil {
			continue // the 60s default holds a poll
		}
		v, ok := nginx.ParseDuration(d.Arg(0))
		if !ok || v >= minPollTimeout || seen[d] {
			continue
		}
		seen[d] = true
		p.Report(d, fmt.Sprintf("proxy_read_timeout %s applies to %s, which serves %s: its requests are held up to %s (Engine.IO's and SockJS's ping interval), so idle polls end in 504 when clients long-poll", d.Arg(0), t.loc.Label(), t.stack, formatDuration(engineIOPingInterval)), "")
	}
}

// nginxTransport is a proxying location whose path is a transport
// endpoint of a long-polling stack (proxy.PollTransport).
type nginxTransport struct {
	loc, proxyPass *nginx.Node
	stack          string
}

// nginxTransports lists the transport locations in file order.
func nginxTransports(c *nginx.Config) []nginxTransport {
	var out []nginxTransport
	for _, loc := range c.All("location") {
		pp := proxyPassOf(loc)
		if pp == nil {
			continue
		}
		if stack, ok := proxy.PollTransport(strings.Join(loc.Args, " ")); ok {
			out = append(out, nginxTransport{loc: loc, proxyPass: pp, stack: stack})
		}
	}
	return out
}

// proxyPassOf is a location's proxy_pass, its own or one in an if or
// limit_except inside it; nil when it does not proxy over HTTP.
func proxyPassOf(loc *nginx.Node) *nginx.Node {
	if own := loc.Own("proxy_pass"); len(own) > 0 {
		return own[len(own)-1]
	}
	for _, ch := range loc.Children {
		if own := ch.Own("proxy_pass"); len(own) > 0 && (ch.Name == "if" || ch.Name == "limit_except") {
			return own[len(own)-1]
		}
	}
	return nil
}
