package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB111", Slug: "nginx-rlimit-nofile-low", Severity: finding.Info,
			Title:     "worker_rlimit_nofile is below worker_connections",
			Rationale: "worker_connections counts every connection of a worker, upstream ones included, and each takes a file descriptor. Without worker_rlimit_nofile, workers inherit the service's limit (often 1024) and fail with 'Too many open files' long before worker_connections is reached.",
			Fix:       "worker_rlimit_nofile <worker_connections + room for log and temp files>; in the main context",
		},
		Proxy: "nginx",
		Nginx: checkRlimitNofile,
	})
}

// defaultNofile is the usual soft limit a service starts with.
const defaultNofile = 1024

func checkRlimitNofile(p *NginxPass) {
	if p.Config.Snippet {
		return
	}
	// worker_connections already counts both sides of a proxied
	// connection (nginx docs: "includes all connections, e.g. connections
	// with proxied servers"), so a worker needs as many descriptors.
	need := workerConnections(p.Config)
	rl := p.Config.Top("worker_rlimit_nofile")
	if len(rl) == 0 {
		if need > defaultNofile {
			p.ReportFile(fmt.Sprintf("worker_rlimit_nofile is not set; %d worker_connections need as many descriptors but services often start with %d", need, defaultNofile), "")
		}
		return
	}
	d := rl[len(rl)-1]
	if n, ok := nginx.ParseInt(d.Arg(0)); ok && n < need {
		p.Report(d, fmt.Sprintf("worker_rlimit_nofile %d is below worker_connections (%d)", n, need), "")
	}
}
