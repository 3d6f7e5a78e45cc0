package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB209", Slug: "haproxy-no-timeout-client-fin", Severity: finding.Info,
			Title:     "No timeout client-fin on a WebSocket frontend",
			Rationale: "When a client half-closes a tunnelled connection, HAProxy keeps the other half open for timeout tunnel (often an hour); client-fin bounds that wait so half-closed sockets do not pile up.",
			Fix:       "timeout client-fin 30s in the frontend or defaults",
		},
		Proxy:   "haproxy",
		HAProxy: checkClientFin,
	})
}

func checkClientFin(p *HAProxyPass) {
	for _, fe := range sortedSections(p.WS.Frontends) {
		if fe.Lookup("timeout", "client-fin") != nil {
			continue
		}
		p.ReportSection(fe, fmt.Sprintf("%s carries WebSockets (because %s) without timeout client-fin", fe.Label(), p.WS.Frontends[fe]), "")
	}
}
