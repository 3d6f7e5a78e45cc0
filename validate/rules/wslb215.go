package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

// HAProxyVersionID reports keywords the target HAProxy rejects.
const HAProxyVersionID = "WSLB215"

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: HAProxyVersionID, Slug: "haproxy-keyword-not-in-version", Severity: finding.Error,
			Title:     "A keyword the target HAProxy version rejects",
			Rationale: "HAProxy refuses to start on keywords it removed (nbproc since 2.5, option forceclose since 2.0, reqrep/reqadd/rsprep... since 2.1) and on sections newer than it (crt-store before 3.0): the reload fails, and the config copied from an old guide takes the proxy down.",
			Fix:       "Use the replacement the message names, or target another version with --haproxy-version",
		},
		Proxy:   "haproxy",
		Version: true,
		HAProxy: checkHAProxyVersion,
	})
}

func checkHAProxyVersion(p *HAProxyPass) {
	// Without a target (no --haproxy-version, no haproxy installed) only
	// keywords every supported version rejects are judged.
	t, known := p.Opts.haproxyVersion()
	for _, s := range p.Config.Sections {
		if since, ok := haproxySectionsSince[s.Type]; ok && known && !t.AtLeast(since.Major, since.Minor, since.Patch) {
			p.ReportSection(s, fmt.Sprintf("the %s section needs HAProxy %s or later; the target is %s", s.Type, short(since), short(t)), "Target a newer HAProxy with --haproxy-version, or move its settings to the global section")
		}
		for _, d := range s.Directives {
			k, ok := haproxyKeywordFor(d)
			if !ok || k.accepts(t) || !known && !k.rejectedByAll(OldestHAProxy) {
				continue
			}
			p.Report(d, k.why("HAProxy", short, t)+": HAProxy refuses to start", "Use "+k.instead)
		}
	}
}
