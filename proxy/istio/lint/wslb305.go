package lint

import (
	"fmt"

	"github.com/wslb/wslb/proxy/kube"
	"github.com/wslb/wslb/validate/finding"
)

// EjectAllID: outlier detection that can eject every endpoint.
const EjectAllID = "WSLB305"

func init() {
	register(finding.Rule{
		ID: EjectAllID, Slug: "istio-outlier-ejects-whole-pool", Severity: finding.Warning,
		Title:     "Outlier detection can eject every endpoint of the pool",
		Rationale: "Envoy ejects up to maxEjectionPercent of a pool (10% by default, and always at least one endpoint), and Istio turns off Envoy's panic mode unless minHealthPercent is set: with maxEjectionPercent 100, or a pool of one endpoint, a burst of errors (a deploy, a slow dependency) ejects every endpoint and the gateway answers 503 to every handshake until the ejection time runs out.",
		Fix:       "Set maxEjectionPercent so that at least one endpoint stays in (50 for two, 66 for three), or set minHealthPercent, or drop outlierDetection for a one-endpoint pool",
	}, checkEjectAll)
}

func checkEjectAll(p *pass) {
	for _, dr := range p.m.DestinationRules {
		n := p.m.Endpoints(dr)
		for _, pol := range dr.Policies {
			odKey, od := kube.Lookup(pol, "outlierDetection")
			if kube.Mapping(od) == nil {
				continue
			}
			if mh, ok := number(kube.Get(od, "minHealthPercent")); ok && mh > 0 {
				continue // below it Envoy balances over every endpoint
			}
			pct, at := 10, odKey
			if k, v := kube.Lookup(od, "maxEjectionPercent"); v != nil {
				if x, ok := number(v); ok {
					pct, at = x, k
				}
			}
			switch {
			case pct >= 100:
				p.at(at, fmt.Sprintf("DestinationRule %s: maxEjectionPercent %d lets outlier detection eject every endpoint of %s, and then every handshake gets 503", dr.Object.Name, pct, dr.Host), "")
			case n == 1:
				p.at(at, fmt.Sprintf("DestinationRule %s: %s has one endpoint, and outlier detection always may eject one: then every handshake gets 503", dr.Object.Name, dr.Host), "")
			case n > 1 && n*pct/100 >= n:
				p.at(at, fmt.Sprintf("DestinationRule %s: maxEjectionPercent %d of %d endpoints ejects all of them", dr.Object.Name, pct, n), "")
			}
		}
	}
}
