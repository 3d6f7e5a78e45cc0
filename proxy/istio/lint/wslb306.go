package lint

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

// UnusedRuleID: a DestinationRule no route of the file sends to.
const UnusedRuleID = "WSLB306"

func init() {
	register(finding.Rule{
		ID: UnusedRuleID, Slug: "istio-destination-rule-unused", Severity: finding.Warning,
		Title:     "A DestinationRule's host matches no route destination in the file",
		Rationale: "A DestinationRule applies to traffic for its host only: when its host matches none of the VirtualService or HTTPRoute destinations next to it (a typo, a short name in another namespace, a Service renamed), the routes run without its affinity, timeouts and outlier detection, and nothing says so.",
		Fix:       "Make the DestinationRule's host the routes' destination host (the Service's name, or its full name name.namespace.svc.cluster.local), or remove it",
	}, checkUnusedRule)
}

func checkUnusedRule(p *pass) {
	if len(p.m.Routes) == 0 {
		return // the routes live in another file: nothing to judge
	}
	for _, dr := range p.m.DestinationRules {
		if dr.Host == "" || len(p.m.RoutesTo(dr)) > 0 {
			continue
		}
		p.at(dr.HostKey, fmt.Sprintf("DestinationRule %s is for host %s, which no route of this file sends to: its traffic policy applies to none of them", dr.Object.Name, dr.Host), "")
	}
}
