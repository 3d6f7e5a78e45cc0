package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB202", Slug: "haproxy-http-fetch-in-tcp-mode", Severity: finding.Error,
			Title:     "An HTTP sample fetch in a TCP-mode proxy",
			Rationale: "TCP is HAProxy's default mode: without 'mode http' the request is never parsed as HTTP, so hdr(), cookie(), path and url_param never match (an Upgrade ACL silently routes nothing) and hdr/uri/url_param balancing falls back to round robin.",
			Fix:       "mode http in the proxy or its defaults section",
		},
		Proxy:   "haproxy",
		HAProxy: checkHTTPFetchInTCP,
	})
}

func checkHTTPFetchInTCP(p *HAProxyPass) {
	for _, s := range p.Config.Proxies() {
		mode, modeLine := s.Mode()
		if mode != "tcp" {
			continue
		}
		why := "no mode is set, so it runs in TCP mode"
		if modeLine != nil {
			why = fmt.Sprintf("it is in TCP mode (line %d)", modeLine.Line)
		}
		for _, d := range s.Directives {
			for _, i := range httpFetches(d) {
				p.ReportArg(d, i, fmt.Sprintf("%s uses the HTTP fetch %s but %s: it never matches", s.Label(), d.Args[i], why), "")
			}
			if d.Keyword == "cookie" {
				p.Report(d, fmt.Sprintf("%s sets cookie affinity but %s: no cookie is ever inserted or read", s.Label(), why), "")
			}
		}
	}
}
