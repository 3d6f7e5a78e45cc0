package rules

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	RegisterLinter(haproxy.Descriptor.Name, &Linter{Lint: lintHAProxy})
}

func lintHAProxy(ctx context.Context, in Input) *Linted {
	// config-parser runs while the rules read wslb's own index.
	h := haproxy.StartContext(ctx, in.File, in.Text)
	out := &Linted{Files: []string{in.File}}
	out.Findings = append(out.Findings, CheckHAProxy(h, in.Opts, in.Disabled)...)
	h.Wait()
	r := ByID(ParseErrorID)
	for _, p := range h.Problems {
		out.Findings = append(out.Findings, newFinding(r, h.File, p.Line, p.Column, p.Message, ""))
	}
	out.Findings = append(out.Findings, TemplateFindings(in.File, in.Text)...)
	for _, cm := range h.Comments {
		out.Comments = append(out.Comments, Comment{File: h.File, Line: cm.Line, Text: cm.Text, Alone: cm.Alone})
	}
	for _, sec := range h.Sections {
		out.Blocks = append(out.Blocks, Span{File: h.File, Start: sec.Line, End: sec.EndLine})
	}
	out.Code = HAProxyCode(h)
	out.Exec = &Exec{
		Refusals: func(reader *safefile.Reader) ([]finding.Finding, string) {
			if fs := haproxyOutsideFiles(h, reader); len(fs) > 0 {
				return fs, fmt.Sprintf("--exec did not run haproxy -c on %s: it names files outside the directories given (WSLB001)", in.File)
			}
			return nil, ""
		},
		Sources: map[string][]byte{in.File: in.Text},
		Hosts:   h.ServerAddresses(in.Text),
	}
	return out
}

// The proxy's own check reads every file the config names, from a sandbox
// that sees the host read-only, and its errors quote what it read (a
// crt-list line, a pattern or map entry). So --exec runs it only when
// every file the config names lies within the directories given on the
// command line.

// haproxyOutsideFiles reports, as WSLB001 findings, each file h names
// that reader would refuse (outside the roots, a device or a FIFO).
func haproxyOutsideFiles(h *haproxy.Config, reader *safefile.Reader) []finding.Finding {
	r := ByID(ParseErrorID)
	// A relative path is read from ca-base or crt-base when set, else
	// from where haproxy runs: every one of them is checked.
	bases := []string{filepath.Dir(h.File)}
	for _, s := range h.Sections {
		for _, d := range s.Directives {
			if (d.Keyword == "ca-base" || d.Keyword == "crt-base") && len(d.Args) > 0 {
				if b := strings.Trim(d.Args[0], `"'`); filepath.IsAbs(b) {
					bases = append(bases, b)
				}
			}
		}
	}
	var out []finding.Finding
	for _, s := range h.Sections {
		for _, d := range s.Directives {
			for _, f := range haproxy.FilesNamed(d.Keyword, d.Args) {
				arg := strings.Trim(f.Path, `"'`)
				if arg == "" || strings.Contains(arg, "${") {
					continue
				}
				p, why := arg, ""
				if filepath.IsAbs(arg) {
					why = reader.Refusal(arg)
				} else {
					for _, b := range bases {
						p = filepath.Join(b, arg)
						if why = reader.Refusal(p); why != "" {
							break
						}
					}
				}
				if why != "" {
					out = append(out, newFinding(r, h.File, d.Line, argColumn(d, f.Arg),
						fmt.Sprintf("%s names %s; --exec does not run haproxy -c, which would read it and may quote it: %s", d.Keyword, p, why),
						"Keep the file next to the config, or pass --include-root for the directory it lives in."))
				}
			}
		}
	}
	return out
}

func argColumn(d *haproxy.Directive, i int) int {
	if i < len(d.ArgColumns) {
		return d.ArgColumns[i]
	}
	return d.Column
}
