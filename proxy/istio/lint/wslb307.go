package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

// UndefinedSubsetID: a route's subset that the destination's
// DestinationRule does not define.
const UndefinedSubsetID = "WSLB307"

func init() {
	register(finding.Rule{
		ID: UndefinedSubsetID, Slug: "istio-undefined-subset", Severity: finding.Error,
		Title:     "A route sends to a subset its DestinationRule does not define",
		Rationale: "A destination's subset must be defined in a DestinationRule for that host: Envoy has no cluster for an unknown subset, and every request and WebSocket handshake on the route gets 503 (no healthy upstream).",
		Fix:       "Define the subset (name and labels) in the host's DestinationRule, or correct the subset's name in the route",
	}, checkUndefinedSubset)
}

func checkUndefinedSubset(p *pass) {
	for _, r := range p.m.Routes {
		for _, d := range r.Destinations {
			if d.Subset == "" || d.SubsetKey == nil {
				continue
			}
			drs := p.m.RulesFor(d)
			if len(drs) == 0 {
				continue // the rule lives in another file
			}
			var known []string
			found := false
			for _, dr := range drs {
				for name := range dr.Subsets {
					known = append(known, name)
					found = found || name == d.Subset
				}
			}
			if found {
				continue
			}
			sort.Strings(known)
			have := "defines no subset"
			if len(known) > 0 {
				have = "defines only " + strings.Join(known, ", ")
			}
			p.at(d.SubsetKey, fmt.Sprintf("%s sends to subset %q of %s, but DestinationRule %s (line %d) %s: Envoy answers 503", r.Describe(), d.Subset, d.Host, drs[0].Object.Name, drs[0].Object.Line, have), "")
		}
	}
}
