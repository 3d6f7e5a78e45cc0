package validate

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/rules"
)

// The proxy's own check reads every file the config names, from a sandbox
// that sees the host read-only, and its errors quote what it read (a
// crt-list line, a pattern or map entry, an included NGINX line). So
// --exec runs it only when every file the config names lies within the
// directories given on the command line.

// haproxyOutsideFiles reports, as WSLB001 findings, each file h names
// that reader would refuse (outside the roots, a device or a FIFO).
func haproxyOutsideFiles(h *haproxy.Config, reader *safefile.Reader) []Finding {
	r := rules.ByID(rules.ParseErrorID)
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
	var out []Finding
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
					out = append(out, Finding{Rule: r.ID, Slug: r.Slug, Severity: r.Severity, File: h.File, Line: d.Line, Column: argColumn(d, f.Arg),
						Message: fmt.Sprintf("%s names %s; --exec does not run haproxy -c, which would read it and may quote it: %s", d.Keyword, p, why),
						Fix:     "Keep the file next to the config, or pass --include-root for the directory it lives in."})
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

// execRefusals returns the findings for files the check would read that
// the roots do not allow, and a note saying the check was not run ("" when
// it may run).
func execRefusals(src Source, h *haproxy.Config, n *nginx.Config, reader *safefile.Reader) ([]Finding, string) {
	switch {
	case h != nil:
		if out := haproxyOutsideFiles(h, reader); len(out) > 0 {
			return out, fmt.Sprintf("--exec did not run haproxy -c on %s: it names files outside the directories given (WSLB001)", src.Name)
		}
	case n != nil && n.Refused():
		// The refused includes are WSLB001 findings already.
		return nil, fmt.Sprintf("--exec did not run nginx -t on %s: it includes files that were refused (WSLB001)", src.Name)
	}
	return nil, ""
}
