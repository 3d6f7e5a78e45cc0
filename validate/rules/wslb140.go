package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB140", Slug: "nginx-affinity-on-handshake-header", Severity: finding.Error,
			Title:     "An upstream hashes a WebSocket handshake header",
			Rationale: "Sec-WebSocket-Key is random on every handshake and Upgrade, Connection and Sec-WebSocket-Version are the same for every client: a hash on them either moves a reconnecting client to another server or sends every client to one server.",
			Fix:       "Hash a value the application sets per session: hash $http_x_session_id consistent; or $arg_sid, or a cookie",
		},
		Proxy: "nginx",
		Nginx: checkNginxHandshakeKey,
	})
}

func checkNginxHandshakeKey(p *NginxPass) {
	for _, d := range p.Config.All("hash") {
		up := d.Enclosing("upstream")
		if up == nil {
			continue
		}
		key := strings.ToLower(d.Arg(0))
		if name, why := handshakeKeyHeader(nginxHeaderVar, key, true); name != "" {
			p.Report(d, fmt.Sprintf("upstream %s hashes $http_%s, a WebSocket handshake header: %s", up.Arg(0), name, why), "")
		}
	}
}
