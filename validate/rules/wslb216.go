package rules

import (
	"fmt"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB216", Slug: "haproxy-server-without-address", Severity: finding.Error,
			Title:     "A server line without an address",
			Rationale: "HAProxy reads the word after the server name as its address: in 'server app1 check' the host name is 'check', health checks are off, and the proxy fails to start when 'check' does not resolve (or sends traffic wherever it does).",
			Fix:       "server app1 10.0.0.1:3000 check",
		},
		Proxy:   "haproxy",
		HAProxy: checkServerAddress,
	})
}

// ServerKeyword reports whether w is a word of an HAProxy or NGINX server
// line that is never an address: one in the address position means the
// address was left out ("server s1 check").
func ServerKeyword(w string) bool { return serverKeywords[w] }

// serverKeywords are HAProxy server options and NGINX upstream server
// flags.
var serverKeywords = map[string]bool{
	"check": true, "backup": true, "cookie": true, "weight": true, "maxconn": true, "inter": true,
	"fastinter": true, "downinter": true, "rise": true, "fall": true, "ssl": true, "verify": true,
	"disabled": true, "enabled": true, "send-proxy": true, "send-proxy-v2": true, "resolvers": true,
	"init-addr": true, "port": true, "addr": true, "id": true, "track": true, "observe": true,
	"on-error": true, "agent-check": true, "slowstart": true, "no-check": true, "check-ssl": true,
	"sni": true, "alpn": true, "proto": true, "resolve-prefer": true, "minconn": true, "maxqueue": true,
	"ca-file": true, "crt": true, "source": true, "tfo": true, "redir": true, "pool-max-conn": true,
	"non-stick": true, "down": true, "resolve": true, "drain": true, "max_fails": true, "fail_timeout": true,
}

func checkServerAddress(p *HAProxyPass) {
	for _, s := range p.Config.Sections {
		for _, d := range s.Own("server") {
			switch {
			case len(d.Args) == 1:
				p.Report(d, fmt.Sprintf("server %s has no address: HAProxy refuses the line", d.Arg(0)), "")
			case len(d.Args) > 1 && serverKeywords[d.Arg(1)]:
				p.ReportArg(d, 1, fmt.Sprintf("server %s has no address: HAProxy takes %q as its host name, so the server never gets its traffic and %q is not applied", d.Arg(0), d.Arg(1), d.Arg(1)), "")
			}
		}
	}
}
