package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB102", Slug: "nginx-http10-upstream", Severity: finding.Error,
			Title:     "A WebSocket location proxies over HTTP/1.0",
			Rationale: "nginx before 1.29.7 talks HTTP/1.0 to upstreams unless proxy_http_version says 1.1; HTTP/1.0 has no Upgrade mechanism, so every WebSocket handshake fails.",
			Fix:       "proxy_http_version 1.1;",
		},
		Proxy: "nginx",
		Nginx: checkHTTPVersion,
	})
}

func checkHTTPVersion(p *NginxPass) {
	v, _ := p.Opts.nginxVersion()
	if v.AtLeast(1, 29, 7) {
		return
	}
	target := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	for _, blk := range nginx.SortedNodes(p.WS.Locations) {
		d := blk.EffectiveOne("proxy_http_version")
		if d != nil && d.Arg(0) != "1.0" {
			continue
		}
		if d != nil {
			p.Report(d, fmt.Sprintf("%s carries WebSockets (because %s) but sets proxy_http_version 1.0, which cannot upgrade", blk.Label(), p.WS.Locations[blk]), "")
			continue
		}
		p.Report(blk, fmt.Sprintf("%s carries WebSockets (because %s) but nginx %s proxies over HTTP/1.0 unless proxy_http_version 1.1 is set", blk.Label(), p.WS.Locations[blk], target), "")
	}
}
