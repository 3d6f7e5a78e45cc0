package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wslb/wslb/validate/finding"
)

// TemplateID is emitted by the validate stage for template text that was
// never rendered.
const TemplateID = "WSLB003"

func init() {
	register(&Rule{Rule: finding.Rule{
		ID: TemplateID, Slug: "unrendered-template", Severity: finding.Error,
		Title:     "Template text that was never rendered",
		Rationale: "A config committed or deployed before its template engine ran still holds {{ .Values.x }}, {% if %}, $(command), <placeholder>, %%VAR%% or %web_port% text: the proxy rejects it, or worse takes the placeholder as a host name, path or header value.",
		Fix:       "Render the template (helm template, envsubst, ansible, consul-template) and lint its output, or replace the placeholder",
	}})
}

// templateRes find unrendered template markup. Placeholders in angle
// brackets must look like one (YOUR_DOMAIN, <backend-ip>, <port>), not
// like the HTML an nginx return may carry.
var templateRes = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`\{\{.*?\}\}`), "template expression"},
	{regexp.MustCompile(`\{%.*?%\}`), "template tag"},
	{regexp.MustCompile(`\$\([^)\s]*[^)]*\)`), "shell command substitution"},
	{regexp.MustCompile(`%%[A-Za-z_][A-Za-z0-9_]*%%`), "placeholder"},
	// Hosting panels (HestiaCP, VestaCP) template with %web_port%, %ip%.
	{regexp.MustCompile(`%[A-Za-z_][A-Za-z0-9_]*%`), "placeholder"},
	{regexp.MustCompile(`<[A-Za-z][A-Za-z0-9_.:-]*>`), "placeholder"},
}

var htmlTags = map[string]bool{
	"html": true, "head": true, "body": true, "title": true, "p": true, "div": true, "span": true,
	"br": true, "hr": true, "pre": true, "a": true, "b": true, "i": true, "em": true, "strong": true,
	"center": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"ul": true, "ol": true, "li": true, "small": true, "code": true, "meta": true, "style": true,
}

// placeholderWords are what angle-bracket placeholders are made of.
var placeholderWordRe = regexp.MustCompile(`(?i)your|domain|host|server|backend|upstream|port|^ip$|[_-]ip$|^ip[_-]|addr|name|path|example|changeme|secret|password|token|key|cert|value|here`)

func isPlaceholder(inner string) bool {
	if htmlTags[strings.ToLower(inner)] {
		return false
	}
	if len(inner) >= 2 && strings.ToUpper(inner) == inner && strings.ContainsAny(inner, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return true
	}
	return placeholderWordRe.MatchString(inner)
}

// Template is unrendered template text on one line.
type Template struct {
	Line, Column int
	Message      string
}

// TemplateText returns, for each line of a config that holds unrendered
// template text outside comments, the first piece (one per line, in line
// order). commentStart finds where a line's comment begins (-1 for none).
func TemplateText(text []byte, commentStart func(string) int) []Template {
	var out []Template
	for i, line := range strings.Split(string(text), "\n") {
		if c := commentStart(line); c >= 0 {
			line = line[:c]
		}
		best := Template{}
		for _, t := range templateRes {
			for _, loc := range t.re.FindAllStringIndex(line, -1) {
				m := line[loc[0]:loc[1]]
				if strings.HasPrefix(m, "<") && !isPlaceholder(strings.Trim(m, "<>")) {
					continue
				}
				// %x% also occurs in HAProxy log formats (%HP%HQ): only
				// placeholder words count.
				if !strings.HasPrefix(m, "%%") && strings.HasPrefix(m, "%") && !placeholderWordRe.MatchString(strings.Trim(m, "%")) {
					continue
				}
				if best.Column == 0 || loc[0]+1 < best.Column {
					best = Template{Line: i + 1, Column: loc[0] + 1, Message: fmt.Sprintf("unrendered %s %s: this file is a template; lint the rendered config", t.kind, m)}
				}
				break
			}
		}
		if best.Column > 0 {
			out = append(out, best)
		}
	}
	return out
}

// HashComment finds a '#' that starts a comment: at the line start or
// after a blank, outside quotes. HAProxy and nginx both comment this way.
func HashComment(line string) int {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '\\':
			i++
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t' || line[i-1] == ';' || line[i-1] == '{' || line[i-1] == '}'):
			return i
		}
	}
	return -1
}
