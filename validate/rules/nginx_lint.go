package rules

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

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
		Hosts:   nginxHosts(n, sources),
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

// nginxHosts lists the upstream server addresses and the *_pass targets
// that name no upstream, placed where they are written plainly.
func nginxHosts(n *nginx.Config, sources map[string][]byte) []HostToken {
	var out []HostToken
	starts := map[string][]int{} // per file, computed once
	n.Walk(func(x *nginx.Node) {
		var tok string
		switch {
		case x.Name == "server" && x.Parent != nil && x.Parent.Name == "upstream":
			tok = x.Arg(0)
		case strings.HasSuffix(x.Name, "_pass") && x.Name != "proxy_pass_header":
			tok = x.Arg(0)
		default:
			return
		}
		host, at := URLHost(tok)
		if x.Name != "server" && n.Upstream(host) != nil {
			return // names an upstream block, not a host
		}
		if starts[x.File] == nil {
			starts[x.File] = LineStarts(sources[x.File])
		}
		out = append(out, HostToken{File: x.File, Off: argOffset(sources[x.File], starts[x.File], x, tok), Token: tok, Host: host, At: at})
	})
	return out
}

// argOffset finds the first argument of an NGINX directive as written
// in data (whose LineStarts are starts), bare or in quotes, on the
// directive's line after its name; -1 when it is not there verbatim
// (escapes, or on a later line).
func argOffset(data []byte, starts []int, x *nginx.Node, arg string) int {
	if x.Column < 1 || x.Line < 1 || arg == "" {
		return -1
	}
	if x.Line > len(starts) {
		return -1
	}
	i := starts[x.Line-1] + x.Column - 1 + len(x.Name)
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	if i < len(data) && (data[i] == '"' || data[i] == '\'') {
		i++
	}
	if i+len(arg) <= len(data) && string(data[i:i+len(arg)]) == arg {
		return i
	}
	return -1
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
