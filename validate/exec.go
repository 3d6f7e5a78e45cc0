package validate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/haproxy"
	"github.com/wslb/wslb/validate/nginx"
	"github.com/wslb/wslb/validate/rules"
)

// stubAddress replaces upstream host names the machine cannot resolve,
// so the binary's check does not fail on production names.
const stubAddress = "127.0.0.1"

// resolveTimeout bounds each host name lookup.
const resolveTimeout = 2 * time.Second

// execCheck runs the real binary's own config check on a scratch copy of
// src with unresolvable upstream host names stubbed to 127.0.0.1.
func execCheck(ctx context.Context, src Source, opts Options) ([]Finding, []string, error) {
	lookup := opts.Binaries
	if lookup == nil {
		lookup = proxybin.Lookup
	}
	bin, err := lookup(src.Kind)
	if err != nil {
		return nil, nil, fmt.Errorf("--exec: %w", err)
	}
	dir, err := os.MkdirTemp("", "wslb-exec-")
	if err != nil {
		return nil, nil, fmt.Errorf("--exec: scratch dir: %w", err)
	}
	defer os.RemoveAll(dir)

	files, main, stubbed, err := scratchCopy(ctx, src, dir)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	if len(stubbed) > 0 {
		notes = append(notes, fmt.Sprintf("--exec checked %s with host names that do not resolve here stubbed to %s: %s",
			src.Name, stubAddress, strings.Join(stubbed, ", ")))
	}
	err = bin.Check(ctx, main)
	var ce *proxybin.CheckError
	if errors.As(err, &ce) {
		back := map[string]string{}
		for orig, scratch := range files {
			back[scratch] = orig
		}
		return checkFindings(src.Name, ce.Output, back), notes, nil
	}
	if err != nil {
		return nil, notes, fmt.Errorf("--exec %s: %w", src.Name, err)
	}
	return nil, notes, nil
}

// scratchCopy writes src (and, for NGINX, the files it includes from
// below its directory) into dir with host names stubbed. An NGINX snippet
// (a conf.d file) is included from a minimal main config, the way nginx
// would read it. It returns the original → scratch path map, the file to
// check and the stubbed names.
func scratchCopy(ctx context.Context, src Source, dir string) (files map[string]string, main string, stubbed []string, err error) {
	files = map[string]string{}
	snippet := false
	hosts := map[string]bool{}
	contents := map[string][]byte{}
	// edits lists per file the lines whose host names may need stubbing;
	// col is the 1-based column of the address when known (HAProxy, where
	// a server's name may equal its host), else 0: search the line.
	type edit struct {
		host string
		col  int
	}
	edits := map[string]map[int][]edit{}
	add := func(file string, line, col int, host string) {
		if host == "" || net.ParseIP(strings.Trim(host, "[]")) != nil || strings.Contains(host, "$") {
			return
		}
		if edits[file] == nil {
			edits[file] = map[int][]edit{}
		}
		edits[file][line] = append(edits[file][line], edit{host: host, col: col})
		hosts[host] = true
	}
	switch src.Kind {
	case HAProxy:
		c := haproxy.Parse(src.Name, src.Bytes)
		contents[src.Name] = src.Bytes
		for _, s := range c.Sections {
			for _, d := range s.Directives {
				switch d.Keyword {
				case "server":
					if len(d.ArgColumns) > 1 {
						add(src.Name, d.Line, d.ArgColumns[1], hostOf(d.Arg(1)))
					}
				case "server-template":
					if len(d.ArgColumns) > 2 {
						add(src.Name, d.Line, d.ArgColumns[2], hostOf(d.Arg(2)))
					}
				}
			}
		}
	case Nginx:
		c := nginx.Parse(src.Name, func(p string) ([]byte, error) {
			if filepath.Clean(p) == filepath.Clean(src.Name) {
				return src.Bytes, nil
			}
			return os.ReadFile(p)
		})
		for _, f := range c.Files() {
			contents[f] = c.Source(f)
		}
		snippet = c.Snippet
		c.Walk(func(n *nginx.Node) {
			switch {
			case n.Name == "server" && n.Parent != nil && n.Parent.Name == "upstream":
				add(n.File, n.Line, 0, hostOf(n.Arg(0)))
			case n.Name == "proxy_pass" || n.Name == "grpc_pass":
				name := hostOf(strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(n.Arg(0), "http://"), "https://"), "/", 2)[0])
				if c.Upstream(name) == nil {
					add(n.File, n.Line, 0, name)
				}
			}
		})
	}
	for h := range hosts {
		rctx, cancel := context.WithTimeout(ctx, resolveTimeout)
		_, err := net.DefaultResolver.LookupHost(rctx, h)
		cancel()
		if err != nil {
			stubbed = append(stubbed, h)
		}
	}
	sort.Strings(stubbed)
	stub := map[string]bool{}
	for _, h := range stubbed {
		stub[h] = true
	}
	base := filepath.Dir(src.Name)
	for file, data := range contents {
		rel, err := filepath.Rel(base, file)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // outside the config's directory: used in place
		}
		out := filepath.Join(dir, rel)
		if file == src.Name {
			out = filepath.Join(dir, filepath.Base(src.Name))
		}
		lines := strings.Split(string(data), "\n")
		for line, es := range edits[file] {
			for _, e := range es {
				if !stub[e.host] || line-1 >= len(lines) {
					continue
				}
				text := lines[line-1]
				if i := e.col - 1; e.col > 0 && i+len(e.host) <= len(text) && text[i:i+len(e.host)] == e.host {
					lines[line-1] = text[:i] + stubAddress + text[i+len(e.host):]
				} else {
					lines[line-1] = replaceHost(text, e.host)
				}
			}
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, "", nil, fmt.Errorf("--exec: %w", err)
		}
		if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			return nil, "", nil, fmt.Errorf("--exec: %w", err)
		}
		files[file] = out
	}
	main = files[src.Name]
	if snippet {
		wrapper := filepath.Join(dir, "wslb-main.conf")
		text := fmt.Sprintf("events {}\nhttp {\n    include %s;\n}\n", filepath.Base(main))
		if err := os.WriteFile(wrapper, []byte(text), 0o644); err != nil {
			return nil, "", nil, fmt.Errorf("--exec: %w", err)
		}
		main = wrapper
	}
	return files, main, stubbed, nil
}

// hostOf takes the host from "host:port", "host" or "[v6]:port";
// unix sockets and addresses with prefixes yield "".
func hostOf(addr string) string {
	if addr == "" || strings.Contains(addr, "@") || strings.HasPrefix(addr, "unix:") || strings.HasPrefix(addr, "/") {
		return ""
	}
	if strings.HasPrefix(addr, "[") {
		return ""
	}
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	if strings.Count(addr, ":") > 1 {
		return "" // bare IPv6
	}
	return addr
}

// replaceHost swaps the first whole-word occurrence of host on the line.
func replaceHost(line, host string) string {
	re := regexp.MustCompile(`(^|[\s/])` + regexp.QuoteMeta(host) + `([:;/\s]|$)`)
	done := false
	return re.ReplaceAllStringFunc(line, func(m string) string {
		if done {
			return m
		}
		done = true
		return strings.Replace(m, host, stubAddress, 1)
	})
}

// checkLineRes find "file:line" in haproxy ("[file:12]") and nginx
// ("in file:12") messages.
var checkLineRes = []*regexp.Regexp{
	regexp.MustCompile(`\[([^\]:]+):(\d+)\]`),
	regexp.MustCompile(`in (\S+):(\d+)`),
}

// checkPrefixRe strips the binary's log prefix: "[ALERT]    (123) : config : "
// and "nginx: [emerg] " / "2026/01/01 00:00:00 [emerg] 1#1: ".
var checkPrefixRe = regexp.MustCompile(`^(\[ALERT\]\s*\(\d+\)\s*:\s*(config\s*:\s*)?|nginx: \[\w+\]\s*|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: )`)

// checkFindings turns the binary's output into WSLB002 findings, one per
// error line that names a file position, mapped back to the original file
// names; without any, the whole output becomes one finding.
func checkFindings(name, output string, back map[string]string) []Finding {
	r := rules.ByID(rules.ExecCheckID)
	var out []Finding
	for _, raw := range strings.Split(output, "\n") {
		line := strings.TrimSpace(raw)
		if !(strings.Contains(line, "ALERT") || strings.Contains(line, "[emerg]") || strings.Contains(line, "[crit]") || strings.Contains(line, "[alert]")) {
			continue
		}
		for _, re := range checkLineRes {
			m := re.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			f := Finding{Rule: r.ID, Slug: r.Slug, Severity: finding.Error, File: name, Fix: r.Fix}
			if orig, ok := back[m[1]]; ok {
				f.File = orig
			}
			f.Line, _ = strconv.Atoi(m[2])
			msg := strings.Replace(line, m[0], "", 1)
			msg = checkPrefixRe.ReplaceAllString(msg, "")
			msg = parsingRe.ReplaceAllString(strings.TrimSpace(msg), "")
			msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(msg), ":"))
			f.Message = r.Title + ": " + cleanCheckLine(msg, back)
			out = append(out, f)
			break
		}
	}
	if len(out) == 0 {
		var msgs []string
		for _, raw := range strings.Split(output, "\n") {
			line := strings.TrimSpace(raw)
			if strings.Contains(line, "ALERT") || strings.Contains(line, "[emerg]") || strings.Contains(line, "[crit]") {
				// nginx repeats each error on stderr with another prefix.
				if m := checkPrefixRe.ReplaceAllString(line, ""); !slices.Contains(msgs, m) {
					msgs = append(msgs, m)
				}
			}
		}
		if len(msgs) == 0 {
			msgs = []string{strings.TrimSpace(output)}
		}
		out = append(out, Finding{Rule: r.ID, Slug: r.Slug, Severity: finding.Error, File: name, Line: 1,
			Message: r.Title + ": " + cleanCheckLine(strings.Join(msgs, "; "), back), Fix: r.Fix})
	}
	return out
}

// parsingRe is what is left of HAProxy's "parsing [file:line] : " once
// the position is taken out.
var parsingRe = regexp.MustCompile(`^parsing\s*:\s*`)

func cleanCheckLine(line string, back map[string]string) string {
	for scratch, orig := range back {
		line = strings.ReplaceAll(line, scratch, orig)
	}
	return line
}
