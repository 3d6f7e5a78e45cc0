package rules

import (
	"regexp"

	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

// NginxCodeRunningID is the rule for NGINX directives that run code.
const NginxCodeRunningID = "WSLB150"

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: NginxCodeRunningID, Slug: "nginx-runs-code", Severity: finding.Error,
			Title:     "The config runs code: modules, Perl, njs or Lua",
			Rationale: "load_module, perl*, js_* and Lua directives run code chosen by whoever wrote the config; a config from an unreviewed pull request must not run it in CI.",
			Fix:       codeFix,
		},
		Proxy: "nginx",
		Nginx: func(p *NginxPass) {
			for _, c := range NginxCode(p.Config) {
				*p.out = append(*p.out, newFinding(p.rule, c.File, c.Line, c.Column, c.Message, ""))
			}
		},
	})
}

// NginxCode lists the directives of c (and its includes) that run code
// (WSLB150).
func NginxCode(c *nginx.Config) []Code {
	var out []Code
	c.Walk(func(n *nginx.Node) {
		if why, ok := nginx.RunsCode(n.Name); ok {
			out = append(out, runsCode(n.File, n.Line, n.Column, n.Name, why))
		}
	})
	// A directive in the wrong context is a parse error and not in the
	// tree, but nginx may still load what came before it: name it too.
	for _, p := range c.Problems {
		for _, m := range QuotedDirective.FindAllStringSubmatch(p.Message, -1) {
			if why, ok := nginx.RunsCode(m[1]); ok {
				out = append(out, runsCode(p.File, p.Line, p.Column, m[1], why))
				break
			}
		}
	}
	return out
}

// QuotedDirective finds the directives a crossplane message names.
var QuotedDirective = regexp.MustCompile(`"([a-z0-9_]+)"`)
