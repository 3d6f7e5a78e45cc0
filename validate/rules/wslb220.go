package rules

import (
	"fmt"
	"slices"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB220", Slug: "haproxy-no-default-backend", Severity: finding.Warning,
			Title:     "Every use_backend is conditional and there is no default_backend",
			Rationale: "A request no condition matches has nowhere to go and gets 503: a WebSocket handshake whose Upgrade header is spelled differently, a health check, or a client that sends no Host header.",
			Fix:       "default_backend <name> (the backend the unmatched requests should reach)",
		},
		Proxy:   "haproxy",
		HAProxy: checkDefaultBackend,
	})
}

func checkDefaultBackend(p *HAProxyPass) {
	for _, fe := range p.Config.Proxies() {
		if !fe.HasFrontend() || fe.Lookup("default_backend") != nil {
			continue
		}
		if mode, _ := fe.Mode(); mode != "http" {
			continue
		}
		if fe.Type == "listen" && fe.SendsToServers() {
			continue // its own servers take the rest
		}
		uses := fe.Own("use_backend")
		if len(uses) == 0 {
			continue
		}
		conditional := true
		for _, d := range uses {
			if len(d.Args) < 2 {
				conditional = false
			}
		}
		if !conditional || hasResponder(fe) {
			continue
		}
		p.ReportSection(fe, fmt.Sprintf("%s routes only conditionally (%d use_backend rules, no default_backend): requests no rule matches get 503", fe.Label(), len(uses)), "")
	}
}

// hasResponder reports whether the frontend answers unmatched requests
// itself: an unconditional redirect, return, deny or tarpit.
func hasResponder(fe *haproxy.Section) bool {
	for _, d := range fe.Directives {
		if slices.Contains(d.Args, "if") || slices.Contains(d.Args, "unless") {
			continue
		}
		switch {
		case d.Keyword == "redirect":
			return true
		case d.Keyword == "http-request" && len(d.Args) > 0:
			switch d.Arg(0) {
			case "redirect", "return", "deny", "tarpit", "reject":
				return true
			}
		}
	}
	return false
}
