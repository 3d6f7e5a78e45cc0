package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB213", Slug: "haproxy-timeout-tunnel-short", Severity: finding.Warning,
			Title:     "timeout tunnel is below the idle threshold",
			Rationale: "timeout tunnel is the idle limit of an upgraded connection: a short one drops quiet WebSockets (chat rooms at night, dashboards) unless the application pings more often.",
			Fix:       "timeout tunnel 1h (or more than the application's ping interval with margin)",
		},
		Proxy:   "haproxy",
		HAProxy: checkTunnelShort,
	})
}

func checkTunnelShort(p *HAProxyPass) {
	limit := p.Opts.minIdle()
	seen := map[*haproxy.Directive]bool{}
	for _, be := range sortedSections(p.WS.Backends) {
		v, d, ok := be.Timeout("tunnel")
		if !ok || v >= limit || seen[d] || p.WS.Backends[be].Reason == haproxy.ReasonTunnel {
			continue
		}
		seen[d] = true
		p.Report(d, fmt.Sprintf("timeout tunnel %s for %s (carries WebSockets because %s) is below the %s idle threshold: quiet sockets drop unless the application pings more often", d.Arg(1), be.Label(), p.WS.Backends[be], formatDuration(limit)), "")
	}
}
