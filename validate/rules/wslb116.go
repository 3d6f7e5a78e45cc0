package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB116", Slug: "nginx-connection-upgrade-map-broken", Severity: finding.Error,
			Title:     "The Connection header variable has no map, or its map inverts upgrade and close",
			Rationale: "proxy_set_header Connection $connection_upgrade needs a map that defines the variable: without one nginx refuses to start ('unknown \"connection_upgrade\" variable'). A map that sends 'close' when Upgrade is present and 'upgrade' when it is not breaks every WebSocket handshake and turns plain requests into upgrade requests.",
			Fix:       "map $http_upgrade $connection_upgrade { default upgrade; '' close; } in the http block",
		},
		Proxy: "nginx",
		Nginx: checkConnectionMap,
	})
}

func checkConnectionMap(p *NginxPass) {
	maps := nginxMaps(p.Config)
	set := map[string]bool{}
	for _, s := range p.Config.All("set") {
		set[s.Arg(0)] = true
	}
	reported := map[*nginx.Node]bool{}
	for _, h := range p.Config.All("proxy_set_header") {
		if !strings.EqualFold(h.Arg(0), "connection") {
			continue
		}
		v := connectionVariable(h)
		if v == "" || builtinVariable(v) || set[v] {
			continue
		}
		m := maps[v]
		if m == nil {
			if p.Config.Snippet {
				continue // the map may live in the http block that includes this file
			}
			p.Report(h, fmt.Sprintf("proxy_set_header Connection %s uses a variable no map or set defines: nginx refuses to start (unknown %q variable)", v, strings.TrimPrefix(v, "$")), "")
			continue
		}
		if reported[m] || !strings.EqualFold(m.Arg(0), "$http_upgrade") {
			continue
		}
		def, _ := mapValue(m, "default")
		empty, _ := mapValue(m, "")
		if strings.EqualFold(def, "close") && strings.EqualFold(empty, "upgrade") {
			reported[m] = true
			p.Report(m, fmt.Sprintf("map $http_upgrade %s is inverted: it sends Connection: close on WebSocket handshakes and Connection: upgrade on plain requests", m.Arg(1)), "")
		}
	}
}
