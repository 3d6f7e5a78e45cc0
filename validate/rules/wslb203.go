package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB203", Slug: "haproxy-hash-not-consistent", Severity: finding.Warning,
			Title:     "Hash-based balance without hash-type consistent",
			Rationale: "The default map-based hash takes the key modulo the total weight: when a server goes down or comes back, almost every client is remapped and loses its session; adjacent source addresses also rotate across servers.",
			Fix:       "hash-type consistent next to the balance line",
		},
		Proxy:   "haproxy",
		HAProxy: checkHashType,
	})
}

func checkHashType(p *HAProxyPass) {
	for _, s := range p.Config.Proxies() {
		if !s.SendsToServers() {
			continue
		}
		bal := s.Lookup("balance")
		alg := balanceHash(bal)
		// One server: there is nothing to remap when servers come and go.
		if alg == "" || activeServerCount(s) < 2 {
			continue
		}
		if ht := s.Lookup("hash-type"); ht != nil && ht.Arg(0) == "consistent" {
			continue
		}
		msg := fmt.Sprintf("%s balances by %s with the default map-based hash: when a server goes down or comes back, almost every client moves to another server", s.Label(), alg)
		if bal.Section == s {
			p.Report(bal, msg, "")
		} else {
			p.ReportSection(s, msg+fmt.Sprintf(" (balance inherited from line %d)", bal.Line), "")
		}
	}
}
