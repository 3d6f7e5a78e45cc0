package rules

import (
	"fmt"
	"time"

	"github.com/wslb/wslb/proxy/haproxy"
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
	feeders := frontendsByBackend(p.Config)
	for _, be := range sortedSections(p.WS.Backends) {
		if be.Lookup("timeout", "tunnel") != nil || idleCoveredWithoutTunnel(be, feeders[be.Name], p.Opts.minIdle()) {
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

// idleCoveredWithoutTunnel reports whether, without timeout tunnel, the
// timeouts that then govern an upgraded connection (timeout server here,
// timeout client in every frontend routing to it) already let sockets
// stay idle for the threshold: nothing is cut early, so there is nothing
// to report.
func idleCoveredWithoutTunnel(be *haproxy.Section, feeders []*haproxy.Section, limit time.Duration) bool {
	if v, _, ok := be.Timeout("server"); !ok || v < limit {
		return false
	}
	fronts := feeders
	if be.HasFrontend() {
		fronts = append([]*haproxy.Section{be}, fronts...)
	}
	if len(fronts) == 0 {
		return false
	}
	for _, fe := range fronts {
		if v, _, ok := fe.Timeout("client"); !ok || v < limit {
			return false
		}
	}
	return true
}
