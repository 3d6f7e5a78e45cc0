package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB214", Slug: "haproxy-http-frontend-tcp-backend", Severity: finding.Error,
			Title:     "An HTTP frontend routes to a TCP-mode backend",
			Rationale: "HAProxy refuses to start when an HTTP frontend uses a TCP backend; it happens when 'mode http' is set in the frontend only and the backend falls back to TCP, the default.",
			Fix:       "mode http in the defaults section (or in the backend too)",
		},
		Proxy:   "haproxy",
		HAProxy: checkModeMismatch,
	})
}

func checkModeMismatch(p *HAProxyPass) {
	for _, fe := range p.Config.Proxies() {
		if !fe.HasFrontend() {
			continue
		}
		if mode, _ := fe.Mode(); mode != "http" {
			continue
		}
		for _, d := range fe.Directives {
			if d.Keyword != "use_backend" && d.Keyword != "default_backend" {
				continue
			}
			be := p.Config.Backend(d.Arg(0))
			if be == nil || be == fe {
				continue
			}
			if mode, _ := be.Mode(); mode == "tcp" {
				p.ReportArg(d, 0, fmt.Sprintf("HTTP %s routes to %s, which is in TCP mode: HAProxy refuses this config", fe.Label(), be.Label()), "")
			}
		}
	}
}
