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
	feeders := frontendsByBackend(p.Config)
	for _, be := range p.Config.Proxies() {
		if !be.SendsToServers() {
			continue
		}
		bal := be.Lookup("balance")
		// With one server every client lands on it whatever the address.
		if bal == nil || bal.Arg(0) != "source" || activeServerCount(be) < 2 || realIPRestored(be, feeders[be.Name]) {
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

// frontendsByBackend maps backend names to the frontends that route to
// them.
func frontendsByBackend(c *haproxy.Config) map[string][]*haproxy.Section {
	out := map[string][]*haproxy.Section{}
	for _, fe := range c.Proxies() {
		if !fe.HasFrontend() {
			continue
		}
		seen := map[string]bool{}
		for _, d := range fe.Directives {
			if (d.Keyword == "use_backend" || d.Keyword == "default_backend") && !seen[d.Arg(0)] {
				seen[d.Arg(0)] = true
				out[d.Arg(0)] = append(out[d.Arg(0)], fe)
			}
		}
	}
	return out
}

// realIPRestored reports whether the backend itself, or a frontend that
// routes to it, replaces the peer address with the client's.
func realIPRestored(be *haproxy.Section, feeders []*haproxy.Section) bool {
	for _, s := range append([]*haproxy.Section{be}, feeders...) {
		for _, d := range s.Directives {
			if d.Keyword == "bind" && slices.Contains(d.Args, "accept-proxy") {
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
