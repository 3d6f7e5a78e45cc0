package rules

import (
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB107", Slug: "nginx-no-worker-shutdown-timeout", Severity: finding.Info,
			Title:     "No worker_shutdown_timeout",
			Rationale: "On reload, old nginx workers wait for their connections to end; WebSockets never end on their own, so old workers and their memory pile up with every reload.",
			Fix:       "worker_shutdown_timeout 30s; in the main context (clients reconnect to the new workers)",
		},
		Proxy: "nginx",
		Nginx: checkWorkerShutdownTimeout,
	})
}

func checkWorkerShutdownTimeout(p *NginxPass) {
	if p.Config.Snippet || len(p.Config.Top("worker_shutdown_timeout")) > 0 {
		return
	}
	p.ReportFile("worker_shutdown_timeout is not set: old workers keep serving WebSockets after every reload", "")
}
