package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB117", Slug: "nginx-connection-upgrade-map-no-empty-case", Severity: finding.Warning,
			Title:     "The $http_upgrade map has no '' (empty) case",
			Rationale: "Without the '' entry the map gives its default ('upgrade') to requests that send no Upgrade header too, exactly like a hard-coded Connection: upgrade: plain HTTP requests reach the backend as upgrade requests and upstream keep-alive is lost; some servers answer 400.",
			Fix:       "map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
		},
		Proxy: "nginx",
		Nginx: checkConnectionMapEmpty,
	})
}

func checkConnectionMapEmpty(p *NginxPass) {
	used := map[string]bool{}
	for _, h := range p.Config.All("proxy_set_header") {
		if strings.EqualFold(h.Arg(0), "connection") {
			used[connectionVariable(h)] = true
		}
	}
	for _, m := range p.Config.All("map") {
		if len(m.Args) != 2 || !strings.EqualFold(m.Arg(0), "$http_upgrade") || !used[m.Arg(1)] {
			continue
		}
		def, _ := mapValue(m, "default")
		if _, e := mapValue(m, ""); e != nil || !strings.EqualFold(def, "upgrade") {
			continue
		}
		p.Report(m, fmt.Sprintf("map $http_upgrade %s has no '' entry: requests without an Upgrade header get %q too, so plain HTTP requests are sent as upgrade requests", m.Arg(1), def), "")
	}
}
