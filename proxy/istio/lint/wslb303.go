package lint

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

// PollingHashID: a Socket.IO/long-polling route without consistentHash.
const PollingHashID = "WSLB303"

func init() {
	register(finding.Rule{
		ID: PollingHashID, Slug: "istio-polling-route-no-consistent-hash", Severity: finding.Warning,
		Title:     "A Socket.IO or long-polling route has no consistentHash",
		Rationale: "Socket.IO, SockJS and SignalR start with (or fall back to) HTTP long-polling: every request of a session must reach the pod that holds it, or the client gets 'Session ID unknown' and reconnects. Without a consistentHash in the destination's DestinationRule, Envoy spreads those requests over every pod.",
		Fix:       "Add trafficPolicy.loadBalancer.consistentHash (httpCookie with a ttl, httpHeaderName or httpQueryParameterName) to the DestinationRule of the route's destination",
	}, checkPollingHash)
}

func checkPollingHash(p *pass) {
	if len(p.m.DestinationRules) == 0 {
		return // the rules live in another file: nothing to judge
	}
	for _, r := range p.m.Routes {
		if r.Polling == "" {
			continue
		}
		for _, d := range r.Destinations {
			drs := p.m.RulesFor(d)
			hashed := false
			for _, dr := range drs {
				hashed = hashed || hashes(dr)
				if n := p.m.Endpoints(dr); n == 1 {
					hashed = true // one endpoint: every request reaches it
				}
			}
			if hashed {
				continue
			}
			why := "no DestinationRule in this file names " + d.Host
			if len(drs) > 0 {
				why = fmt.Sprintf("DestinationRule %s (line %d) has no consistentHash", drs[0].Object.Name, drs[0].Object.Line)
			}
			p.at(d.HostKey, fmt.Sprintf("%s takes requests that need one pod per session (%s), but %s: Envoy spreads them over every pod", r.Describe(), r.Polling, why), "")
		}
	}
}
