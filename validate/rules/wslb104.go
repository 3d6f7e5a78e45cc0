package rules

import (
	"fmt"
	"time"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB104", Slug: "nginx-websocket-read-timeout", Severity: finding.Warning,
			Title:     "proxy_read_timeout on a WebSocket location is below the idle threshold",
			Rationale: "nginx closes a proxied WebSocket when the backend sends nothing for proxy_read_timeout (60s by default): quiet chats and dashboards drop every minute unless the application pings more often.",
			Fix:       "proxy_read_timeout 1h; (and proxy_send_timeout alike), or ping from the server more often than the timeout",
		},
		Proxy: "nginx",
		Nginx: checkReadTimeout,
	})
}

// nginxDefaultReadTimeout is proxy_read_timeout's built-in value.
const nginxDefaultReadTimeout = 60 * time.Second

func checkReadTimeout(p *NginxPass) {
	limit := p.Opts.minIdle()
	for _, blk := range nginx.SortedNodes(p.WS.Locations) {
		if p.WS.Locations[blk].Generic {
			continue // location / passing Upgrade through: nothing says WebSockets live here
		}
		d := blk.EffectiveOne("proxy_read_timeout")
		value := nginxDefaultReadTimeout
		var at *nginx.Node = blk
		how := "the 60s default"
		if d != nil {
			v, ok := nginx.ParseDuration(d.Arg(0))
			if !ok {
				continue
			}
			value, at, how = v, d, "proxy_read_timeout "+d.Arg(0)
		}
		if value >= limit {
			continue
		}
		p.Report(at, fmt.Sprintf("%s carries WebSockets (because %s) and closes them after %s idle (%s), below the %s threshold: quiet sockets drop unless the application pings more often",
			blk.Label(), p.WS.Locations[blk], formatDuration(value), how, formatDuration(limit)), "")
	}
}
