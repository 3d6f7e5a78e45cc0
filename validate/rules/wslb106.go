package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB106", Slug: "nginx-worker-connections-low", Severity: finding.Warning,
			Title:     "worker_connections is unset (512) or below 4096",
			Rationale: "Each proxied WebSocket holds two connections (client and upstream) for its whole life; at 512 per worker a small box stops accepting after ~256 sockets per worker and logs 'worker_connections are not enough'.",
			Fix:       "events { worker_connections 16384; } and worker_rlimit_nofile at least as high",
		},
		Proxy: "nginx",
		Nginx: checkWorkerConnections,
	})
}

// minWorkerConnections is the floor for a WebSocket proxy.
const minWorkerConnections = 4096

func checkWorkerConnections(p *NginxPass) {
	if p.Config.Snippet {
		return
	}
	events := p.Config.Top("events")
	if len(events) == 0 {
		return // a parse error (WSLB001): nginx needs an events block
	}
	d := workerConnectionsLine(events[0])
	if d == nil {
		p.Report(events[0], fmt.Sprintf("worker_connections is not set and defaults to %d: each worker refuses connections beyond about %d concurrent WebSockets (each takes two)", defaultWorkerConnections, defaultWorkerConnections/2), "")
		return
	}
	n, ok := nginx.ParseInt(d.Arg(0))
	if ok && n < minWorkerConnections {
		p.Report(d, fmt.Sprintf("worker_connections %d is below %d: each worker refuses connections beyond about %d concurrent WebSockets (each takes two)", n, minWorkerConnections, n/2), "")
	}
}
