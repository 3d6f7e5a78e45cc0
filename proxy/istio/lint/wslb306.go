package lint

import (
	"fmt"
	"strings"

	"github.com/agext/levenshtein"

	"github.com/wslb/wslb/validate/finding"
)

// UnusedRuleID: a DestinationRule no route of the file sends to.
const UnusedRuleID = "WSLB306"

func init() {
	register(finding.Rule{
		ID: UnusedRuleID, Slug: "istio-destination-rule-unused", Severity: finding.Warning,
		Title:     "A DestinationRule's host matches no route destination in the file",
		Rationale: "A DestinationRule applies to traffic for its host only: when, in a file that routes a gateway's traffic, its host matches none of the VirtualService or HTTPRoute destinations next to it (a typo, a short name in another namespace, a Service renamed), the routes run without its affinity, timeouts and outlier detection, and nothing says so.",
		Fix:       "Make the DestinationRule's host the routes' destination host (the Service's name, or its full name name.namespace.svc.cluster.local), or remove it",
	}, checkUnusedRule)
}

func checkUnusedRule(p *pass) {
	// Judged where the file routes a gateway's traffic: inside the mesh a
	// DestinationRule applies to every client of its host, routed or not
	// (Istio's Bookinfo keeps rules for hosts no VirtualService names).
	var dests []string
	ingress := false
	for _, r := range p.m.Routes {
		ingress = ingress || r.Ingress
		for _, d := range r.Destinations {
			dests = append(dests, d.Host)
		}
	}
	if !ingress {
		return
	}
	for _, dr := range p.m.DestinationRules {
		if dr.Host == "" || len(p.m.RoutesTo(dr)) > 0 {
			continue
		}
		msg := fmt.Sprintf("DestinationRule %s is for host %s, which no route of this file sends to: its traffic policy applies to none of them", dr.Object.Name, dr.Host)
		if near := nearest(dr.Host, dests); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		p.at(dr.HostKey, msg, "")
	}
}

// nearest is the destination host most like host (by its first label: a
// few letters apart, or one the other's prefix), "" when none is close.
func nearest(host string, dests []string) string {
	label := func(h string) string { l, _, _ := strings.Cut(h, "."); return l }
	best, dist := "", 0
	for _, d := range dests {
		a, b := label(host), label(d)
		n := levenshtein.Distance(a, b, nil)
		close := n <= max(2, len(a)/3) || strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
		if close && (best == "" || n < dist) {
			best, dist = d, n
		}
	}
	return best
}
