package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB219", Slug: "haproxy-variable-never-set", Severity: finding.Error,
			Title:     "A routing rule reads a variable nothing sets",
			Rationale: "var(txn.x) is empty unless a set-var action (or a set-var converter) fills it: an ACL or use_backend that tests a variable no line sets never matches, so the route it guards (often the WebSocket one) is dead and every request falls through to the default backend.",
			Fix:       "http-request set-var(txn.name) <expr> before the rule that reads it, or fix the variable's name",
		},
		Proxy:   "haproxy",
		HAProxy: checkVariablesSet,
	})
}

// setsVariablesElsewhere reports lines that let code outside the file
// set variables: Lua scripts and SPOE agents.
func setsVariablesElsewhere(d *haproxy.Directive) bool {
	if strings.HasPrefix(d.Keyword, "lua-") {
		return true
	}
	if d.Keyword == "filter" && d.Arg(0) == "spoe" {
		return true
	}
	for _, a := range d.Args {
		if strings.HasPrefix(a, "lua.") {
			return true
		}
	}
	return false
}

var (
	varReadRe = regexp.MustCompile(`var\(((?:proc|sess|txn|req|res)\.[A-Za-z0-9_.]+)`)
	varSetRe  = regexp.MustCompile(`(?:set-var(?:-fmt)?|unset-var)\(((?:proc|sess|txn|req|res)\.[A-Za-z0-9_.]+)`)
)

func checkVariablesSet(p *HAProxyPass) {
	set := map[string]bool{}
	for _, s := range p.Config.Sections {
		for _, d := range s.Directives {
			if setsVariablesElsewhere(d) {
				return // Lua scripts and SPOE agents set variables wslb cannot see
			}
			for _, m := range varSetRe.FindAllStringSubmatch(d.Keyword+" "+strings.Join(d.Args, " "), -1) {
				set[m[1]] = true
			}
			if d.Keyword == "set-var" && len(d.Args) > 0 { // global set-var proc.x
				set[d.Arg(0)] = true
			}
		}
	}
	for _, s := range p.Config.Proxies() {
		for _, d := range s.Directives {
			if d.Keyword != "acl" && d.Keyword != "use_backend" && d.Keyword != "use-server" {
				continue
			}
			for i, a := range d.Args {
				for _, m := range varReadRe.FindAllStringSubmatch(a, -1) {
					if set[m[1]] {
						continue
					}
					p.ReportArg(d, i, fmt.Sprintf("%s reads var(%s), which no set-var sets: it is always empty, so this %s never matches", s.Label(), m[1], d.Keyword), "")
				}
			}
		}
	}
}
