package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB221", Slug: "haproxy-websocket-acl-on-host", Severity: finding.Warning,
			Title:     "A WebSocket ACL tests the Host header for the ws:// scheme",
			Rationale: "The Host header carries the host name only, never the ws:// or wss:// scheme of the URL the browser opened: 'hdr_beg(Host) -i ws' matches host names that happen to start with ws (wsus.example.com) and no WebSocket handshake as such, and a value like 'ws://' or 'websocket' never matches.",
			Fix:       "acl is_websocket hdr(Upgrade) -i websocket (or route a dedicated host: hdr(host) -i ws.example.com)",
		},
		Proxy:   "haproxy",
		HAProxy: checkWebSocketHostACL,
	})
}

// schemeValues are what authors write when they mean the URL scheme or
// the Upgrade token, not a host name.
var schemeValues = map[string]bool{"ws": true, "wss": true, "ws://": true, "wss://": true, "websocket": true, "upgrade": true}

func checkWebSocketHostACL(p *HAProxyPass) {
	for _, s := range p.Config.Proxies() {
		for _, d := range s.Own("acl") {
			if len(d.Args) < 3 || !haproxy.HostFetchRe.MatchString(d.Arg(1)) {
				continue
			}
			for i, v := range d.Args[2:] {
				if strings.HasPrefix(v, "-") || !schemeValues[strings.ToLower(v)] {
					continue
				}
				p.ReportArg(d, i+2, fmt.Sprintf("acl %s tests %s for %q: the Host header holds the host name, never the scheme or the Upgrade token: it detects no WebSocket handshake, and plain requests to host names starting with %q are routed as if they were one", d.Arg(0), d.Arg(1), v, v), "")
				break
			}
		}
	}
}
