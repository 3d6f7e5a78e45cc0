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
			ID: "WSLB222", Slug: "haproxy-duplicate-bind", Severity: finding.Error,
			Title:     "Two frontends bind the same address",
			Rationale: "HAProxy binds listeners with SO_REUSEPORT, so two frontends on one address both start, and the kernel splits connections between them at random: half the WebSocket handshakes meet the other frontend's rules and backends.",
			Fix:       "One frontend per address: merge the two, or give one another port or address",
		},
		Proxy:   "haproxy",
		HAProxy: checkDuplicateBind,
	})
}

// bindKey normalises a bind address: "*:80", ":80" and "0.0.0.0:80" are
// the same listener.
func bindKey(addr string) string {
	a := strings.ToLower(addr)
	if strings.HasPrefix(a, "*:") || strings.HasPrefix(a, "0.0.0.0:") {
		a = a[strings.IndexByte(a, ':'):]
	}
	return a
}

func checkDuplicateBind(p *HAProxyPass) {
	first := map[string]*haproxy.Directive{}
	for _, s := range p.Config.Proxies() {
		if !s.HasFrontend() {
			continue
		}
		for _, d := range s.Own("bind") {
			for _, addr := range strings.Split(d.Arg(0), ",") {
				if addr == "" || strings.Contains(addr, "$") || strings.HasPrefix(addr, "fd@") || strings.HasPrefix(addr, "sockpair@") {
					continue
				}
				k := bindKey(addr)
				prev, dup := first[k]
				if !dup {
					first[k] = d
					continue
				}
				if prev.Section == s {
					continue // repeated in one frontend: HAProxy binds it once per line, same rules
				}
				p.ReportArg(d, 0, fmt.Sprintf("%s binds %s, which %s already binds on line %d: connections are split at random between the two", s.Label(), addr, prev.Section.Label(), prev.Line), "")
			}
		}
	}
}
