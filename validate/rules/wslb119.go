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
			ID: "WSLB119", Slug: "nginx-add-header-drops-inherited", Severity: finding.Warning,
			Title:     "add_header in a WebSocket location drops the server's headers",
			Rationale: "add_header follows the same inheritance as proxy_set_header: a location with any add_header of its own inherits none from its server or http block. Adding one header to the WebSocket location silently removes the security headers (Strict-Transport-Security, Content-Security-Policy, X-Frame-Options) from everything that location answers, long-poll responses included.",
			Fix:       "Repeat the server's add_header lines in the location, or put them in an include both use",
		},
		Proxy: "nginx",
		Nginx: checkAddHeaderInheritance,
	})
}

func checkAddHeaderInheritance(p *NginxPass) {
	for _, blk := range nginx.SortedNodes(p.WS.Locations) {
		own := blk.Own("add_header")
		if blk.Name != "location" || len(own) == 0 || blk.Parent == nil {
			continue
		}
		inherited, from := blk.Parent.Effective("add_header")
		if len(inherited) == 0 {
			continue
		}
		have := map[string]bool{}
		for _, h := range own {
			have[strings.ToLower(h.Arg(0))] = true
		}
		var lost []string
		for _, h := range inherited {
			if !have[strings.ToLower(h.Arg(0))] {
				lost = append(lost, h.Arg(0))
			}
		}
		if len(lost) == 0 {
			continue
		}
		p.Report(own[0], fmt.Sprintf("%s carries WebSockets (because %s) and sets its own add_header, so it no longer sends %s from the enclosing %s (line %d)", blk.Label(), p.WS.Locations[blk], strings.Join(lost, ", "), from.Name, inherited[0].Line), "")
	}
}
