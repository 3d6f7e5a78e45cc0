package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB205", Slug: "haproxy-missing-timeouts", Severity: finding.Error,
			Title:     "timeout client, connect or server is missing",
			Rationale: "Without them HAProxy waits forever: half-dead clients and servers hold connections and file descriptors until the process runs out, and HAProxy itself warns at startup.",
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
		if s.HasBackend() {
			for _, t := range []string{"connect", "server"} {
				if s.Lookup("timeout", t) == nil {
					missing = append(missing, "timeout "+t)
				}
			}
		}
		if len(missing) > 0 {
			p.ReportSection(s, fmt.Sprintf("%s has no %s (neither in the section nor in its defaults)", s.Label(), strings.Join(missing, ", ")), "")
		}
	}
}
