package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB201", Slug: "haproxy-no-timeout-tunnel", Severity: finding.Warning,
			Title:     "WebSocket traffic without timeout tunnel",
			Rationale: "Once a connection is upgraded HAProxy applies timeout tunnel; without it the much shorter timeout client/server keep applying and cut idle WebSockets after seconds.",
			Fix:       "timeout tunnel 1h in the backend (or its defaults section)",
		},
		Proxy:   "haproxy",
		HAProxy: checkTimeoutTunnel,
	})
}

func checkTimeoutTunnel(p *HAProxyPass) {
	for _, be := range sortedSections(p.WS.Backends) {
		if be.Lookup("timeout", "tunnel") != nil {
			continue
		}
		msg := fmt.Sprintf("%s carries WebSockets (because %s) but has no timeout tunnel", be.Label(), p.WS.Backends[be])
		if v, _, ok := be.Timeout("server"); ok {
			msg += fmt.Sprintf(": idle sockets are cut after timeout server (%s)", formatDuration(v))
		} else {
			msg += ": idle sockets are cut by timeout client or server"
		}
		p.ReportSection(be, msg, "")
	}
}
