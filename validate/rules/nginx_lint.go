package rules

import (
	"context"
	"fmt"
	"regexp"
	"slices"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	RegisterLinter(nginx.Descriptor.Name, &Linter{
		Lint: lintNginx,
		// A main config includes the conf.d files given beside it.
		Main: func(text []byte) bool { return !nginx.IsSnippet(text) },
	})
}

func lintNginx(ctx context.Context, in Input) *Linted {
	limits := nginx.Limits{Check: in.Check}
	if in.Reader != nil {
		limits = nginx.ReaderLimits(in.Reader)
		limits.Check = in.Check
	}
	open := func(path string) ([]byte, error) {
		if path == in.File {
			return in.Text, nil
		}
		return in.Open(path)
	}
	n := nginx.Load(ctx, in.File, nginx.LoadOptions{Open: open, Limits: limits})
	out := &Linted{Files: n.Files()}
	out.Findings = append(out.Findings, nginxProblems(n, in.Opts)...)
	for _, f := range n.Files() {
		out.Findings = append(out.Findings, TemplateFindings(f, n.Source(f))...)
	}
	out.Findings = append(out.Findings, CheckNginx(n, in.Opts, in.Disabled)...)
	directiveLines := map[Span]bool{}
	n.Walk(func(x *nginx.Node) {
		directiveLines[Span{File: x.File, Start: x.Line}] = true
		if x.Children != nil || x.EndLine > 0 {
			out.Blocks = append(out.Blocks, Span{File: x.File, Start: x.Line, End: x.EndLine})
		}
	})
	for _, cm := range n.Comments {
		out.Comments = append(out.Comments, Comment{File: cm.File, Line: cm.Line, Text: cm.Text, Alone: !directiveLines[Span{File: cm.File, Start: cm.Line}]})
	}
	out.Code = NginxCode(n)
	sources := map[string][]byte{}
	for _, f := range n.Files() {
		sources[f] = n.Source(f)
	}
	ex := &Exec{
		Refusals: func(*safefile.Reader) ([]finding.Finding, string) {
			if n.Refused() {
				// The refused includes are WSLB001 findings already.
				return nil, fmt.Sprintf("--exec did not run nginx -t on %s: it includes files that were refused (WSLB001)", in.File)
			}
			return nil, ""
		},
		Sources: sources,
		Hosts:   n.ServerAddresses(),
		Note:    func(bin proxybin.Binary) string { return originNote(in.File, bin, n) },
	}
	if n.Snippet {
		// nginx reads a conf.d file from its main config's http block.
		ex.Wrap = func(base string) []byte {
			return fmt.Appendf(nil, "events {}\nhttp {\n    include %s;\n}\n", base)
		}
	}
	out.Exec = ex
	return out
}

func nginxProblems(c *nginx.Config, opts Options) []finding.Finding {
	r := ByID(ParseErrorID)
	var out []finding.Finding
	for _, p := range c.Problems {
		file := p.File
		if file == "" {
			file = c.File
		}
		if m := QuotedDirective.FindStringSubmatch(p.Message); m != nil && NginxDirectiveKnown(m[1]) {
			// The version table knows this directive better than the
			// parser's keyword list: WSLB112 reports it when the target
			// rejects it, and nothing does when the target accepts it.
			if f, ok := NginxVersionFinding(m[1], opts, file, p.Line, p.Column); ok {
				out = append(out, f)
			}
			continue
		}
		out = append(out, newFinding(r, file, p.Line, p.Column, p.Message, ""))
	}
	return out
}

// nginxAllOrigins is the first NGINX that keeps every Origin line in
// $http_origin (joined by commas); older ones keep only the first.
var nginxAllOrigins = [3]int{1, 23, 0}

// originNote warns when the NGINX --exec runs is older than
// nginxAllOrigins and the config reads $http_origin: an Origin check there
// decides on the first of several Origin lines alone (docs/security.md).
func originNote(name string, bin proxybin.Binary, n *nginx.Config) string {
	v := nginxAllOrigins
	if bin.Version.AtLeast(v[0], v[1], v[2]) || !readsVar(n, httpOriginVar) {
		return ""
	}
	return fmt.Sprintf("%s reads $http_origin, which nginx %s sets from the first Origin header line only: an Origin check there lets a second line through (NGINX %d.%d and later see every line; see docs/security.md)",
		name, bin.Version, v[0], v[1])
}

// httpOriginVar matches $http_origin and ${http_origin} (NGINX variable
// names ignore case), not $http_origin_x.
var httpOriginVar = regexp.MustCompile(`(?i)\$(http_origin\b|\{http_origin\})`)

// readsVar reports whether a directive of c names the variable.
func readsVar(c *nginx.Config, variable *regexp.Regexp) bool {
	found := false
	c.Walk(func(n *nginx.Node) {
		found = found || slices.ContainsFunc(n.Args, variable.MatchString)
	})
	return found
}
