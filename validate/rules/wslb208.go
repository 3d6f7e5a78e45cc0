package rules

import (
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB208", Slug: "haproxy-no-hard-stop-after", Severity: finding.Info,
			Title:     "No hard-stop-after",
			Rationale: "On reload the old HAProxy process stays until its last connection closes; WebSockets may never close, so old processes and their memory accumulate with every reload.",
			Fix:       "hard-stop-after 30s in the global section",
		},
		Proxy:   "haproxy",
		HAProxy: checkHardStopAfter,
	})
}

func checkHardStopAfter(p *HAProxyPass) {
	g := p.Config.Global()
	if g != nil && len(g.Own("hard-stop-after")) > 0 {
		return
	}
	if len(p.Config.Proxies()) == 0 {
		return
	}
	msg := "hard-stop-after is not set: old processes keep serving WebSockets after every reload"
	if g == nil {
		p.ReportFile(msg, "")
		return
	}
	p.ReportSection(g, msg, "")
}
