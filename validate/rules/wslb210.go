package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/haproxy"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB210", Slug: "haproxy-httpclose-on-websocket", Severity: finding.Warning,
			Title:     "option httpclose (or forceclose) on WebSocket traffic",
			Rationale: "httpclose adds 'Connection: close' and closes after each response: old HAProxy versions and some servers then refuse the upgrade, and Socket.IO/SockJS long-polling pays a new TCP (and TLS) handshake per poll.",
			Fix:       "Remove option httpclose (keep-alive is the default) or use option http-server-close",
		},
		Proxy:   "haproxy",
		HAProxy: checkHTTPClose,
	})
}

func checkHTTPClose(p *HAProxyPass) {
	seen := map[*haproxy.Directive]bool{}
	report := func(s *haproxy.Section, reason string) {
		for _, opt := range []string{"httpclose", "forceclose"} {
			on, d := s.Option(opt)
			if !on || seen[d] {
				continue
			}
			seen[d] = true
			p.Report(d, fmt.Sprintf("option %s applies to %s, which carries WebSockets (%s)", opt, s.Label(), reason), "")
		}
	}
	for _, s := range sortedSections(p.WS.Frontends) {
		report(s, p.WS.Frontends[s])
	}
	for _, s := range sortedSections(p.WS.Backends) {
		report(s, p.WS.Backends[s])
	}
}
