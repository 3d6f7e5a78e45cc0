package rules

import (
	"slices"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB207", Slug: "haproxy-cookie-insert-without-nocache", Severity: finding.Warning,
			Title:     "cookie … insert without nocache",
			Rationale: "An inserted affinity cookie on a cacheable response can be stored by a shared cache or CDN and handed to every user, pinning them all to one server.",
			Fix:       "cookie SRV insert indirect nocache",
		},
		Proxy:   "haproxy",
		HAProxy: checkCookieNocache,
	})
}

func checkCookieNocache(p *HAProxyPass) {
	for _, s := range p.Config.Sections {
		for _, d := range s.Own("cookie") {
			opts := d.Args[min(1, len(d.Args)):] // after the cookie name
			if slices.Contains(opts, "insert") && !slices.Contains(opts, "nocache") {
				p.Report(d, "cookie "+d.Arg(0)+" is inserted without nocache: a shared cache may serve it to other users", "")
			}
		}
	}
}
