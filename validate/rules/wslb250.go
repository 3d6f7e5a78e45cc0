package rules

import (
	"fmt"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

// CodeRunningID is the rule for HAProxy directives that run code.
const CodeRunningID = "WSLB250"

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: CodeRunningID, Slug: "haproxy-runs-code", Severity: finding.Error,
			Title:     "The config runs code: Lua, external programs or checks",
			Rationale: "lua-load, program sections and external checks run code chosen by whoever wrote the config; a config from an unreviewed pull request must not run it in CI.",
			Fix:       codeFix,
		},
		Proxy: "haproxy",
		HAProxy: func(p *HAProxyPass) {
			for _, c := range HAProxyCode(p.Config) {
				p.report(c.Line, c.Column, c.Message, "")
			}
		},
	})
}

// codeFix is the fix of WSLB150 and WSLB250.
const codeFix = "remove the directive, or review it and pass --allow-code to validate --exec and verify"

// Code is a directive that runs code, and where it is.
type Code struct {
	File         string
	Line, Column int
	Directive    string
	Message      string
}

// runsCode is the Code for directive name at file:line:col, which runs
// code for the reason why (from the proxy package's RunsCode).
func runsCode(file string, line, col int, name, why string) Code {
	return Code{file, line, col, name, fmt.Sprintf("%s runs code: %s", name, why)}
}

// HAProxyCode lists the lines of c that run code (WSLB250): lua-load,
// lua-prepend-path, program sections, external checks, and the setenv
// family when such code is present to read the variables.
func HAProxyCode(c *haproxy.Config) []Code {
	var out, env []Code
	for _, s := range c.Sections {
		if haproxy.CodeSection(s.Type) {
			out = append(out, Code{c.File, s.Line, s.Column, s.Type, fmt.Sprintf("program section %q starts an external program", s.Name)})
			continue
		}
		for _, d := range s.Directives {
			if why, ok := haproxy.RunsCode(s.Type, d.Keyword, d.Args); ok {
				out = append(out, runsCode(c.File, d.Line, d.Column, d.Keyword, why))
			} else if haproxy.SetsCodeEnv(d.Keyword) {
				env = append(env, Code{c.File, d.Line, d.Column, d.Keyword, fmt.Sprintf("%s sets environment variables for the code this config runs", d.Keyword)})
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return append(out, env...)
}
