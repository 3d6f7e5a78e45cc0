package lint

import (
	"fmt"

	"github.com/wslb/wslb/proxy/kube"
	"github.com/wslb/wslb/validate/finding"
)

// SourceIPID: consistentHash.useSourceIp behind a load balancer.
const SourceIPID = "WSLB302"

func init() {
	register(finding.Rule{
		ID: SourceIPID, Slug: "istio-source-ip-hash", Severity: finding.Info,
		Title:     "useSourceIp hashes the address the gateway sees, often a load balancer's or a node's",
		Rationale: "Behind a cloud load balancer the ingress gateway's Service (externalTrafficPolicy: Cluster, the default) is reached through kube-proxy, which replaces client addresses with a node's: every client behind one node hashes alike and lands on one pod. The hash keys on the real client only when the load balancer keeps addresses (externalTrafficPolicy: Local) or passes them on (PROXY protocol), or the gateway trusts the proxies in front of it (numTrustedProxies).",
		Fix:       "Set externalTrafficPolicy: Local on the gateway's Service, or enable the PROXY protocol on the load balancer and the gateway, or set gatewayTopology.numTrustedProxies; or hash a cookie, header or query parameter instead",
	}, checkSourceIP)
}

func checkSourceIP(p *pass) {
	if len(p.m.ClientAddress) > 0 {
		return // the file shows the gateway sees client addresses
	}
	for _, dr := range p.m.DestinationRules {
		for _, pol := range dr.Policies {
			_, ch := consistentHash(pol)
			if k, v := kube.Lookup(ch, "useSourceIp"); v != nil && kube.Str(v) == "true" {
				p.at(k, fmt.Sprintf("DestinationRule %s hashes the client address the gateway sees; nothing in this file keeps client addresses (externalTrafficPolicy: Local, PROXY protocol, numTrustedProxies), so behind a load balancer clients may share a node's address and one pod", dr.Object.Name), "")
			}
		}
	}
}
