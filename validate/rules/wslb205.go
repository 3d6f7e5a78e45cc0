package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB205", Slug: "haproxy-missing-timeouts", Severity: finding.Warning,
			Title:     "timeout client, connect or server is missing",
			Rationale: "HAProxy starts (with a warning), but without them it waits forever: when clients or servers vanish without closing (mobile networks, crashed nodes), their connections and file descriptors pile up until maxconn is reached.",
			Fix:       "timeout connect 5s, timeout client 60s and timeout server 60s in the defaults section",
		},
		Proxy:   "haproxy",
		HAProxy: checkMissingTimeouts,
	})
}

func checkMissingTimeouts(p *HAProxyPass) {
	for _, s := range p.Config.Proxies() {
		var missing []string
		if s.HasFrontend() && s.Lookup("timeout", "client") == nil {
			missing = append(missing, "timeout client")
		}
		if s.SendsToServers() {
			for _, t := range []string{"connect", "server"} {
				if s.Lookup("timeout", t) == nil {
					missing = append(missing, "timeout "+t)
				}
			}
		}
		if len(missing) > 0 {
			p.ReportSection(s, fmt.Sprintf("%s has no %s (neither in the section nor in its defaults): connections of peers that vanish without closing are never freed", s.Label(), strings.Join(missing, ", ")), "")
		}
	}
}
