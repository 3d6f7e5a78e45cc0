package rules

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB118", Slug: "nginx-proxy-pass-host-resolved-once", Severity: finding.Warning,
			Title:     "proxy_pass or upstream server to a host name that nginx resolves only once",
			Rationale: "nginx resolves a host name in proxy_pass once, at start: when the backend moves — docker compose recreating a container, a Kubernetes pod restarting, a cloud instance replaced — nginx keeps connecting to the old address until the next reload, and every WebSocket reconnect fails. A proxy_pass with a variable needs a resolver, or nginx answers 502.",
			Fix:       "resolver 127.0.0.11 valid=10s; (Docker's DNS, or your resolver) and set $backend http://app:3000; proxy_pass $backend; — or 'server app:3000 resolve;' in an upstream with a resolver (nginx >= 1.27.3)",
		},
		Proxy: "nginx",
		Nginx: checkResolvedOnce,
	})
}

// staticHost reports whether h needs no DNS at run time: an address,
// localhost, a unix socket.
func staticHost(h string) bool {
	h = strings.Trim(h, "[]")
	return h == "" || h == "localhost" || net.ParseIP(h) != nil || strings.HasPrefix(h, "unix:")
}

func checkResolvedOnce(p *NginxPass) {
	sets := setLines(p.Config)
	for _, pp := range p.Config.All("proxy_pass") {
		if pp.Enclosing("stream") != nil {
			continue
		}
		target := pp.Arg(0)
		host := nginx.UpstreamName(target)
		if strings.Contains(target, "$") {
			// A variable set to a URL whose host needs DNS: nginx resolves
			// it per request and needs a resolver. Variables from a map
			// usually name upstream blocks and need none.
			if h := setHost(p.Config, sets, target); h != "" && pp.EffectiveOne("resolver") == nil && !p.Config.Snippet {
				p.Report(pp, fmt.Sprintf("proxy_pass %s resolves %s per request but no resolver is set: nginx answers 502 (no resolver defined to resolve %s)", target, h, h), "")
			}
			continue
		}
		// A host still holding template text is WSLB003's to report.
		if staticHost(host) || p.Config.Upstream(host) != nil || !strings.Contains(target, "://") || strings.ContainsAny(host, "%{}<>") {
			continue
		}
		if p.Config.Snippet && !strings.Contains(host, ".") && !hasPort(target) {
			continue // likely an upstream defined in the http block that includes this file
		}
		p.Report(pp, fmt.Sprintf("proxy_pass %s: nginx resolves %s once at start, so when the backend moves (a container recreated, a pod restarted) reconnecting clients keep going to the old address until a reload", target, host), "")
	}
	for _, up := range p.Config.All("upstream") {
		for _, srv := range up.Own("server") {
			host := nginx.UpstreamName("http://" + srv.Arg(0))
			if staticHost(host) || strings.HasPrefix(srv.Arg(0), "unix:") || strings.ContainsAny(host, "$%{}<>") || slices.Contains(srv.Args, "resolve") {
				continue
			}
			p.Report(srv, fmt.Sprintf("upstream %s: server %s is resolved once at start (no 'resolve' parameter), so when the backend moves (a container recreated, a pod restarted) reconnecting clients keep going to the old address until a reload", up.Arg(0), srv.Arg(0)), "")
		}
	}
}

// setHost returns the host a proxy_pass variable ($name or ${name}) is
// set to with "set" when it needs DNS (not an address, not an upstream),
// or "". sets maps variable names to their set lines.
func setHost(c *nginx.Config, sets map[string][]*nginx.Node, target string) string {
	name, _, ok := leadingVariable(target)
	if !ok {
		return ""
	}
	for _, s := range sets[name] {
		h := nginx.UpstreamName(s.Arg(1))
		if h != "" && !strings.Contains(h, "$") && !staticHost(h) && c.Upstream(h) == nil {
			return h
		}
	}
	return ""
}

// setLines maps variable names (without $) to the set lines that assign
// them, read once per config rather than once per proxy_pass.
func setLines(c *nginx.Config) map[string][]*nginx.Node {
	out := map[string][]*nginx.Node{}
	for _, s := range c.All("set") {
		name := strings.TrimPrefix(s.Arg(0), "$")
		out[name] = append(out[name], s)
	}
	return out
}

// hasPort reports whether a proxy_pass URL names a port (an upstream
// block is referenced without one).
func hasPort(target string) bool {
	t := nginx.ProxyAuthority(target)
	return strings.LastIndexByte(t, ':') > strings.LastIndexByte(t, ']')
}
