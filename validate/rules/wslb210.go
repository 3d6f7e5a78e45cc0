package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB210", Slug: "haproxy-httpclose-on-websocket", Severity: finding.Info,
			Title:     "option httpclose on WebSocket traffic",
			Rationale: "httpclose adds 'Connection: close' and closes after each response. Upgrades still work on HAProxy 2.x, but Socket.IO/SockJS long-polling and the page's plain requests pay a new TCP (and TLS) handshake each. The connection modes (httpclose, http-server-close, http-keep-alive) exclude each other and the last one declared wins.",
			Fix:       "Remove option httpclose (keep-alive is the default) or use option http-server-close",
		},
		Proxy:   "haproxy",
		HAProxy: checkHTTPClose,
	})
}

func checkHTTPClose(p *HAProxyPass) {
	seen := map[*haproxy.Directive]bool{}
	report := func(s *haproxy.Section, reason proxy.Why) {
		d := connectionMode(s)
		if d == nil || seen[d] || d.Keyword == "no" {
			return
		}
		opt := d.Arg(0)
		if opt != "httpclose" {
			return // forceclose is gone since HAProxy 2.0: WSLB215
		}
		seen[d] = true
		p.Report(d, fmt.Sprintf("option %s applies to %s, which carries WebSockets (because %s): upgrades still work, but every long-poll and plain request pays a new connection", opt, s.Label(), reason), "")
	}
	for _, s := range sortedSections(p.WS.Frontends) {
		report(s, p.WS.Frontends[s])
	}
	for _, s := range sortedSections(p.WS.Backends) {
		report(s, p.WS.Backends[s])
	}
}

// connModes are HAProxy's mutually exclusive HTTP connection modes: the
// last one declared wins.
var connModes = map[string]bool{"httpclose": true, "forceclose": true, "http-server-close": true, "http-keep-alive": true}

// connectionMode returns the line that decides a proxy's connection
// mode: the last "option <mode>" (or "no option <mode>") in the section,
// else in its defaults chain; nil when none is set.
func connectionMode(s *haproxy.Section) *haproxy.Directive {
	for sec, depth := s, 0; sec != nil && depth < 64; sec, depth = sec.Defaults, depth+1 {
		for i := len(sec.Directives) - 1; i >= 0; i-- {
			d := sec.Directives[i]
			if d.Keyword == "option" && connModes[d.Arg(0)] {
				return d
			}
			if d.Is("no", "option") && connModes[d.Arg(1)] {
				return d
			}
		}
	}
	return nil
}
