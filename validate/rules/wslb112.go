package rules

import (
	"slices"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate/finding"
)

// NginxVersionID reports directives the target nginx rejects.
const NginxVersionID = "WSLB112"

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: NginxVersionID, Slug: "nginx-directive-not-in-version", Severity: finding.Error,
			Title:     "A directive the target nginx version rejects",
			Rationale: "nginx refuses to start on directives newer than it ('unknown directive \"http2\"' before 1.25.1, http3/quic before 1.25.0) and on directives it removed (ssl on; since 1.25.1): the reload fails on the servers still running the older package.",
			Fix:       "Use the replacement the message names, or target another version with --nginx-version",
		},
		Proxy:   "nginx",
		Version: true,
		Nginx:   checkNginxVersion,
	})
}

func checkNginxVersion(p *NginxPass) {
	t, known := p.Opts.nginxVersion()
	if !known {
		return // no target (no --nginx-version, no nginx installed): every row depends on it
	}
	p.Config.Walk(func(n *nginx.Node) {
		k, ok := nginxDirectives[n.Name]
		if ok && !k.accepts(t) {
			p.Report(n, k.why("nginx", topology.Version.String, t)+": nginx refuses to start", "Use "+k.instead)
		}
		if n.Name == "listen" && !t.AtLeast(1, 25, 0) && slices.Contains(n.Args, "quic") {
			p.Report(n, "listen ... quic needs nginx 1.25.0 or later; the target is "+short(t)+": nginx refuses to start", "Target nginx >= 1.25.0 with --nginx-version, or drop quic")
		}
		// Open-source nginx re-resolves upstream servers only since 1.27.3;
		// older ones refuse the parameter ('invalid parameter "resolve"').
		if n.Name == "server" && n.Parent != nil && n.Parent.Name == "upstream" && !t.AtLeast(1, 27, 3) && slices.Contains(n.Args, "resolve") {
			p.Report(n, "server ... resolve in an upstream needs nginx 1.27.3 or later (or NGINX Plus); the target is "+short(t)+": nginx refuses to start", "Target nginx >= 1.27.3 with --nginx-version, or proxy_pass $variable with a resolver")
		}
	})
}

// NginxVersionFinding is the WSLB112 finding for a directive the parser
// could not place, when the target version rejects it.
func NginxVersionFinding(name string, opts Options, file string, line, col int) (finding.Finding, bool) {
	k, ok := nginxDirectives[name]
	t, known := opts.nginxVersion()
	if !ok || k.accepts(t) || !known {
		return finding.Finding{}, false
	}
	r := ByID(NginxVersionID)
	return newFinding(r, file, line, col, k.why("nginx", topology.Version.String, t)+": nginx refuses to start", "Use "+k.instead), true
}
