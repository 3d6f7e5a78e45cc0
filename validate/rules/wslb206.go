package rules

import (
	"fmt"
	"strings"

	"github.com/agext/levenshtein"

	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB206", Slug: "haproxy-unknown-backend", Severity: finding.Error,
			Title:     "use_backend or default_backend names a backend that does not exist",
			Rationale: "HAProxy refuses to start when a routing rule names a missing backend; a typo in the WebSocket route takes the whole proxy down on the next reload.",
			Fix:       "Name an existing backend or listen section, or add the backend",
		},
		Proxy:   "haproxy",
		HAProxy: checkUnknownBackend,
	})
}

func checkUnknownBackend(p *HAProxyPass) {
	var names []string
	for _, s := range p.Config.Sections {
		if s.HasBackend() {
			names = append(names, s.Name)
		}
	}
	for _, s := range p.Config.Sections {
		if !s.IsProxy() && s.Type != "defaults" {
			continue
		}
		for _, d := range s.Directives {
			if d.Keyword != "use_backend" && d.Keyword != "default_backend" {
				continue
			}
			name := d.Arg(0)
			if name == "" || strings.Contains(name, "%[") || p.Config.Backend(name) != nil {
				continue
			}
			msg := fmt.Sprintf("%s %s: there is no backend %q", d.Keyword, name, name)
			if best := closest(name, names); best != "" {
				msg += fmt.Sprintf("; did you mean %q?", best)
			} else if len(names) > 0 && len(names) <= 8 {
				msg += fmt.Sprintf(" (backends: %s)", strings.Join(names, ", "))
			}
			p.ReportArg(d, 0, msg, "")
		}
	}
}

// closest returns the name nearest to typo when it is a plausible
// misspelling (distance at most a third of its length, at least 1).
func closest(typo string, names []string) string {
	best, bestD := "", max(1, len(typo)/3)+1
	for _, n := range names {
		if d := levenshtein.Distance(typo, n, nil); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}
