package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB109", Slug: "nginx-hash-not-consistent", Severity: finding.Warning,
			Title:     "hash without consistent in a WebSocket upstream",
			Rationale: "Plain hash maps keys modulo the server count: adding, removing or losing one server moves almost every client to another server, dropping their sessions at once.",
			Fix:       "hash $key consistent;",
		},
		Proxy: "nginx",
		Nginx: checkHashConsistent,
	})
}

func checkHashConsistent(p *NginxPass) {
	for _, up := range nginx.SortedNodes(p.WS.Upstreams) {
		for _, d := range up.Own("hash") {
			if d.Arg(1) != "consistent" {
				p.Report(d, fmt.Sprintf("upstream %s (carries WebSockets because %s) hashes %s without consistent: a server change remaps nearly all sessions", up.Arg(0), p.WS.Upstreams[up], d.Arg(0)), "")
			}
		}
	}
}
