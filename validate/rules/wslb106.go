package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/nginx"
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
	wc := events[0].Own("worker_connections")
	if len(wc) == 0 {
		p.Report(events[0], "worker_connections is not set and defaults to 512", "")
		return
	}
	d := wc[len(wc)-1]
	n, ok := nginx.ParseInt(d.Arg(0))
	if ok && n < minWorkerConnections {
		p.Report(d, fmt.Sprintf("worker_connections %d is below %d; each WebSocket takes two connections", n, minWorkerConnections), "")
	}
}

// workerConnections returns the configured worker_connections (512 when
// unset) and whether the file is a main config.
func workerConnections(c *nginx.Config) int {
	for _, ev := range c.Top("events") {
		if wc := ev.Own("worker_connections"); len(wc) > 0 {
			if n, ok := nginx.ParseInt(wc[len(wc)-1].Arg(0)); ok {
				return n
			}
		}
	}
	return 512
}
