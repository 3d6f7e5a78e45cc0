package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB240", Slug: "haproxy-affinity-on-handshake-header", Severity: finding.Error,
			Title:     "Affinity keyed on a WebSocket handshake header",
			Rationale: "Sec-WebSocket-Key is random on every handshake and Upgrade, Connection and Sec-WebSocket-Version are the same for every client: balancing or sticking on them either moves a reconnecting client to another server or sends every client to one server.",
			Fix:       "Key on a value the application sets per session: balance hdr(X-Session-Id), balance url_param sid, or cookie insert",
		},
		Proxy:   "haproxy",
		HAProxy: checkHAProxyHandshakeKey,
	})
}

func checkHAProxyHandshakeKey(p *HAProxyPass) {
	for _, s := range p.Config.Sections {
		if !s.HasBackend() && s.Type != "defaults" {
			continue
		}
		for _, d := range s.Directives {
			var expr string
			var arg int
			switch {
			case d.Keyword == "balance":
				expr, arg = d.Arg(0), 0
			case d.Keyword == "stick" && (d.Arg(0) == "on" || d.Arg(0) == "match" || d.Arg(0) == "store-request"):
				expr, arg = d.Arg(1), 1
			default:
				continue
			}
			if name, why := handshakeKeyHeader(haproxyHeaderFetch, expr, false); name != "" {
				p.ReportArg(d, arg, fmt.Sprintf("%s %s keys affinity on %s, a WebSocket handshake header: %s", d.Keyword, expr, name, why), "")
			}
		}
	}
}
