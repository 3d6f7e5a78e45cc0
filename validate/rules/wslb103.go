package rules

import (
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB103", Slug: "nginx-hardcoded-connection-upgrade", Severity: finding.Warning,
			Title:     `Connection is hard-coded to "upgrade"`,
			Rationale: `Sending "Connection: upgrade" on every request, including plain HTTP ones, asks the backend to upgrade requests that are not WebSocket handshakes and stops upstream keep-alive; some servers answer 400.`,
			Fix:       "map $http_upgrade $connection_upgrade { default upgrade; '' close; } then proxy_set_header Connection $connection_upgrade;",
		},
		Proxy: "nginx",
		Nginx: checkHardcodedConnection,
	})
}

func checkHardcodedConnection(p *NginxPass) {
	for _, h := range p.Config.All("proxy_set_header") {
		if strings.EqualFold(h.Arg(0), "connection") && strings.EqualFold(strings.TrimSpace(h.Arg(1)), "upgrade") {
			p.Report(h, `proxy_set_header Connection is hard-coded to "upgrade"; plain HTTP requests through this block are sent as upgrade requests too`, "")
		}
	}
}
