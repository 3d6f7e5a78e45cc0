package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB108", Slug: "nginx-ip-hash-ipv4-24", Severity: finding.Info,
			Title:     "ip_hash keys on the first three octets of IPv4 addresses",
			Rationale: "ip_hash hashes only the /24 of an IPv4 client: a whole office, carrier-grade NAT or a CDN egress range lands on one server, and behind another proxy every client shares the proxy's address.",
			Fix:       "hash $remote_addr consistent; (with set_real_ip_from/real_ip_header behind a proxy), or hash a session cookie",
		},
		Proxy: "nginx",
		Nginx: checkIPHash,
	})
}

func checkIPHash(p *NginxPass) {
	for _, up := range nginx.SortedNodes(p.WS.Upstreams) {
		for _, d := range up.Own("ip_hash") {
			p.Report(d, fmt.Sprintf("upstream %s (carries WebSockets because %s) uses ip_hash: IPv4 clients in one /24 (office, NAT, CDN) all go to the same server", up.Arg(0), p.WS.Upstreams[up]), "")
		}
	}
}
