package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/haproxy"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB211", Slug: "haproxy-balance-source-without-real-ip", Severity: finding.Info,
			Title:     "balance source without the real client address",
			Rationale: "balance source hashes the TCP peer address. Behind a CDN, another load balancer or carrier NAT, that is the same few addresses for everyone, so one server gets all the WebSockets.",
			Fix:       "Behind a proxy: accept-proxy on the bind line or http-request set-src hdr(x-forwarded-for); otherwise hash a session cookie",
		},
		Proxy:   "haproxy",
		HAProxy: checkBalanceSource,
	})
}

func checkBalanceSource(p *HAProxyPass) {
	for _, be := range p.Config.Proxies() {
		if !be.HasBackend() {
			continue
		}
		bal := be.Lookup("balance")
		if bal == nil || bal.Arg(0) != "source" || realIPRestored(p.Config, be) {
			continue
		}
		msg := fmt.Sprintf("%s balances by source address, and no frontend feeding it restores the client address (accept-proxy, set-src)", be.Label())
		if bal.Section == be {
			p.Report(bal, msg, "")
		} else {
			p.ReportSection(be, msg, "")
		}
	}
}

// realIPRestored reports whether the backend itself, or a frontend that
// routes to it, replaces the peer address with the client's.
func realIPRestored(c *haproxy.Config, be *haproxy.Section) bool {
	feeds := []*haproxy.Section{be}
	for _, fe := range c.Proxies() {
		if !fe.HasFrontend() || fe == be {
			continue
		}
		for _, d := range append(fe.Own("use_backend"), fe.Own("default_backend")...) {
			if d.Arg(0) == be.Name {
				feeds = append(feeds, fe)
				break
			}
		}
	}
	for _, s := range feeds {
		for _, d := range s.Directives {
			if d.Keyword == "bind" && hasWord(d.Args, "accept-proxy") {
				return true
			}
			if (d.Keyword == "http-request" || d.Keyword == "tcp-request") && strings.Contains(strings.Join(d.Args, " "), "set-src") {
				return true
			}
			if d.Is("tcp-request", "connection", "expect-proxy") {
				return true
			}
		}
	}
	return false
}
