package rules

import (
	"fmt"

	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB110", Slug: "nginx-sticky-unsupported", Severity: finding.Error,
			Title:     "sticky on an nginx older than 1.29.6",
			Rationale: "Open-source nginx gained the sticky directive in 1.29.6; older versions (and every distribution package before it) reject the config with 'unknown directive \"sticky\"' unless it is NGINX Plus.",
			Fix:       "hash $cookie_<name> consistent; or ip_hash; or target nginx >= 1.29.6 with --nginx-version",
		},
		Proxy: "nginx",
		Nginx: checkSticky,
	})
}

func checkSticky(p *NginxPass) {
	v, _ := p.Opts.nginxVersion()
	if s := topology.NginxSticky; v.AtLeast(s.Major, s.Minor, s.Patch) {
		return
	}
	for _, d := range p.Config.All("sticky") {
		p.Report(d, fmt.Sprintf("sticky needs nginx >= 1.29.6 or NGINX Plus; the target is %d.%d.%d", v.Major, v.Minor, v.Patch), "")
	}
}
