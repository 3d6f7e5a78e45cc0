package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB224", Slug: "haproxy-poll-transport-timeout-short", Severity: finding.Warning,
			Title:     "timeout server is shorter than a long-polling transport holds a request",
			Rationale: "SockJS's xhr, xhr_streaming, eventsource and htmlfile transports and SignalR's long polling hold each request open for up to the stack's ping interval (Engine.IO's default is 25s, SockJS's heartbeat 25s). A backend that a path ACL on those transports selects, without carrying WebSockets, still needs timeout server above the hold.",
			Fix:       "timeout server 60s in the backend that serves the transport",
		},
		Proxy:   "haproxy",
		HAProxy: checkTransportTimeout,
	})
}

// checkTransportTimeout covers the backends the route detector does not
// see as long-polling (WSLB217 judges those): a backend a use_backend
// selects with a path ACL on a transport endpoint of a long-polling
// stack.
func checkTransportTimeout(p *HAProxyPass) {
	seen := map[*haproxy.Directive]bool{}
	for _, t := range haproxyTransports(p.Config) {
		if why, ok := p.WS.Backends[t.be]; ok && why.LongPoll {
			continue
		}
		v, td, ok := t.be.Timeout("server")
		if !ok || v >= minPollTimeout || seen[td] {
			continue
		}
		seen[td] = true
		p.Report(td, fmt.Sprintf("timeout server %s applies to %s, which serves %s (use_backend on line %d): its requests are held up to %s (Engine.IO's and SockJS's ping interval), so idle polls are cut when clients long-poll", td.Arg(1), t.be.Label(), t.stack, t.use.Line, formatDuration(engineIOPingInterval)), "")
	}
}

// haproxyTransport is a use_backend that selects a backend with a path
// ACL on a transport endpoint of a long-polling stack
// (proxy.PollTransport).
type haproxyTransport struct {
	use   *haproxy.Directive
	be    *haproxy.Section
	stack string
}

// haproxyTransports lists the transport routes in file order.
func haproxyTransports(c *haproxy.Config) []haproxyTransport {
	var out []haproxyTransport
	for _, fe := range c.Proxies() {
		if !fe.HasFrontend() {
			continue
		}
		acls := map[string]string{} // ACL name → the endpoint its path names
		for _, d := range fe.Own("acl") {
			if stack := transportACL(d.Args[min(1, len(d.Args)):]); stack != "" {
				if _, dup := acls[d.Arg(0)]; !dup {
					acls[d.Arg(0)] = stack
				}
			}
		}
		for _, d := range fe.Own("use_backend") {
			be := c.Backend(d.Arg(0))
			if be == nil {
				continue
			}
			if stack := conditionTransport(d.Args[1:], acls); stack != "" {
				out = append(out, haproxyTransport{use: d, be: be, stack: stack})
			}
		}
	}
	return out
}

// transportACL returns the endpoint and path value a path test (fetch,
// then flags and values) names, or "".
func transportACL(test []string) string {
	if len(test) < 2 || !haproxy.IsPathFetch(test[0]) {
		return ""
	}
	for _, v := range test[1:] {
		if strings.HasPrefix(v, "-") {
			continue
		}
		if stack, ok := proxy.PollTransport(v); ok {
			return stack + " " + v
		}
	}
	return ""
}

// conditionTransport returns the stack named by the first test of an
// "if" condition, named or inline, that selects a long-polling transport
// and is not negated; "" when there is none.
func conditionTransport(cond []string, acls map[string]string) string {
	if len(cond) == 0 || cond[0] != "if" {
		return ""
	}
	negated := false
	for i := 1; i < len(cond); i++ {
		a := cond[i]
		switch {
		case a == "!":
			negated = true // a negated test selects everything else
			continue
		case a == "{":
			end := i + 1
			for end < len(cond) && cond[end] != "}" {
				end++
			}
			if stack := transportACL(cond[i+1 : end]); stack != "" && !negated {
				return stack
			}
			i = end
		default:
			if stack, ok := acls[a]; ok && !negated {
				return stack
			}
		}
		negated = false
	}
	return ""
}
