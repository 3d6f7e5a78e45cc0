package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB218", Slug: "haproxy-cookie-affinity-broken", Severity: finding.Warning,
			Title:     "Cookie affinity that cannot pin clients",
			Rationale: "Cookie affinity works only when every server has its own value and the backend has a cookie line: two servers with one value send all their clients to the first; server-template gives every server the same value; server cookie values without a 'cookie' line in the backend are never used. Long-polling and reconnecting clients then land on servers that do not know their session.",
			Fix:       "cookie SRV insert indirect nocache in the backend and a distinct 'cookie <value>' per server (or 'cookie SRV insert dynamic' with dynamic-cookie-key for server-template)",
		},
		Proxy:   "haproxy",
		HAProxy: checkCookieIntegrity,
	})
}

// serverCookie returns a server line's cookie value and its argument
// index, or "".
func serverCookie(d *haproxy.Directive) (string, int) {
	for i := 1; i+1 < len(d.Args); i++ {
		if d.Args[i] == "cookie" {
			return d.Args[i+1], i + 1
		}
	}
	return "", -1
}

func checkCookieIntegrity(p *HAProxyPass) {
	for _, be := range p.Config.Proxies() {
		if !be.SendsToServers() {
			continue
		}
		ck := be.Lookup("cookie")
		dynamic := ck != nil && slices.Contains(ck.Args, "dynamic")
		first := map[string]*haproxy.Directive{}
		var orphans []*haproxy.Directive
		for _, d := range be.Directives {
			if d.Keyword != "server" && d.Keyword != "server-template" {
				continue
			}
			val, i := serverCookie(d)
			if val == "" {
				continue
			}
			switch {
			case ck == nil:
				orphans = append(orphans, d)
			case d.Keyword == "server-template" && !dynamic:
				p.ReportArg(d, i-1, fmt.Sprintf("server-template %s gives all %d servers the cookie value %q: every client is pinned to the first of them", d.Arg(0), templateSize(d.Arg(1)), val), "")
			case d.Keyword == "server":
				if prev, dup := first[val]; dup {
					p.ReportArg(d, i, fmt.Sprintf("server %s has the cookie value %q of server %s (line %d): its clients are all sent to %s", d.Arg(0), val, prev.Arg(0), prev.Line, prev.Arg(0)), "")
					continue
				}
				first[val] = d
			}
		}
		if len(orphans) > 0 {
			var names []string
			for _, d := range orphans {
				names = append(names, d.Arg(0))
			}
			_, i := serverCookie(orphans[0])
			p.ReportArg(orphans[0], i-1, fmt.Sprintf("server(s) %s have cookie values, but %s has no cookie line: the values are never set or read, so clients are not pinned when they long-poll or reconnect", strings.Join(names, ", "), be.Label()), "")
		}
	}
}
