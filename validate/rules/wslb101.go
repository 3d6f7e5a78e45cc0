package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB101", Slug: "nginx-upgrade-headers-not-forwarded", Severity: finding.Error,
			Title:     "A WebSocket location does not forward Upgrade and Connection",
			Rationale: "Upgrade and Connection are hop-by-hop headers: nginx drops them unless proxy_set_header passes them on, so the backend never sees a WebSocket handshake and answers 400 or plain HTTP.",
			Fix:       "proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; (with map $http_upgrade $connection_upgrade { default upgrade; '' close; })",
		},
		Proxy: "nginx",
		Nginx: checkUpgradeHeaders,
	})
}

func checkUpgradeHeaders(p *NginxPass) {
	for _, blk := range nginx.SortedNodes(p.WS.Locations) {
		headers, from := blk.Effective("proxy_set_header")
		upgrade, connection := false, false
		for _, h := range headers {
			switch strings.ToLower(h.Arg(0)) {
			case "upgrade":
				upgrade = strings.Contains(h.Arg(1), "$") || strings.EqualFold(strings.TrimSpace(h.Arg(1)), "websocket")
			case "connection":
				connection = nginx.ConnectionUpgrades(h.Arg(1))
			}
		}
		if upgrade && connection {
			continue
		}
		var missing []string
		if !upgrade {
			missing = append(missing, "Upgrade")
		}
		if !connection {
			missing = append(missing, "Connection")
		}
		msg := fmt.Sprintf("%s carries WebSockets (because %s) but does not forward %s to the backend",
			blk.Label(), p.WS.Locations[blk], strings.Join(missing, " and "))
		if from == blk && nginx.UpgradeIntent(blk.Parent) {
			msg += "; its own proxy_set_header lines stop nginx from inheriting the enclosing block's Upgrade/Connection headers"
		}
		p.Report(blk, msg, "")
	}
}
