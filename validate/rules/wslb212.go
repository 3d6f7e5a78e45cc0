package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB212", Slug: "haproxy-cookie-without-server-values", Severity: finding.Warning,
			Title:     "Cookie affinity with servers that have no cookie value",
			Rationale: "HAProxy inserts or matches the affinity cookie only for servers with a 'cookie <value>' parameter; servers without one never get sticky clients, so affinity silently does nothing for them.",
			Fix:       "server app1 10.0.0.1:3000 check cookie app1 (a distinct value per server), or 'cookie SRV insert dynamic' with dynamic-cookie-key",
		},
		Proxy:   "haproxy",
		HAProxy: checkCookieServerValues,
	})
}

func checkCookieServerValues(p *HAProxyPass) {
	for _, be := range p.Config.Proxies() {
		if !be.SendsToServers() {
			continue
		}
		ck := be.Lookup("cookie")
		if ck == nil || slices.Contains(ck.Args, "dynamic") {
			continue
		}
		var bare []string
		for _, srv := range be.Servers() {
			if !slices.Contains(srv.Args[min(1, len(srv.Args)):], "cookie") {
				bare = append(bare, srv.Arg(0))
			}
		}
		if len(bare) == 0 {
			continue
		}
		msg := fmt.Sprintf("%s uses cookie %s but server(s) %s have no 'cookie <value>': clients are never pinned to them, so they lose their session when they long-poll or reconnect", be.Label(), ck.Arg(0), strings.Join(bare, ", "))
		if ck.Section == be {
			p.Report(ck, msg, "")
		} else {
			p.ReportSection(be, msg, "")
		}
	}
}
