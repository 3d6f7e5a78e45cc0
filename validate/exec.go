package validate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
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

	files, stubbed, err := scratchCopy(ctx, src, dir)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	if len(stubbed) > 0 {
		notes = append(notes, fmt.Sprintf("--exec checked %s with host names that do not resolve here stubbed to %s: %s",
			src.Name, stubAddress, strings.Join(stubbed, ", ")))
	}
	main := files[src.Name]
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
// below its directory) into dir with host names stubbed. It returns the
// original → scratch path map and the stubbed names.
func scratchCopy(ctx context.Context, src Source, dir string) (map[string]string, []string, error) {
	files := map[string]string{}
	hosts := map[string]bool{}
	contents := map[string][]byte{}
	// edits lists per file the lines whose host names may need stubbing.
	edits := map[string]map[int][]string{}
	add := func(file string, line int, host string) {
		if host == "" || net.ParseIP(strings.Trim(host, "[]")) != nil || strings.Contains(host, "$") {
			return
		}
		if edits[file] == nil {
			edits[file] = map[int][]string{}
		}
		edits[file][line] = append(edits[file][line], host)
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
					add(src.Name, d.Line, hostOf(d.Arg(1)))
				case "server-template":
					add(src.Name, d.Line, hostOf(d.Arg(2)))
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
		c.Walk(func(n *nginx.Node) {
			switch {
			case n.Name == "server" && n.Parent != nil && n.Parent.Name == "upstream":
				add(n.File, n.Line, hostOf(n.Arg(0)))
			case n.Name == "proxy_pass" || n.Name == "grpc_pass":
				name := hostOf(strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(n.Arg(0), "http://"), "https://"), "/", 2)[0])
				if c.Upstream(name) == nil {
					add(n.File, n.Line, name)
				}
			}
		})
	}
	var stubbed []string
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
		for line, hs := range edits[file] {
			for _, h := range hs {
				if stub[h] && line-1 < len(lines) {
					lines[line-1] = replaceHost(lines[line-1], h)
				}
			}
		}
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, nil, fmt.Errorf("--exec: %w", err)
		}
		if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			return nil, nil, fmt.Errorf("--exec: %w", err)
		}
		files[file] = out
	}
	return files, stubbed, nil
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
			msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(msg), ":"))
			f.Message = r.Title + ": " + cleanCheckLine(msg, back)
			out = append(out, f)
			break
		}
	}
	if len(out) == 0 {
		out = append(out, Finding{Rule: r.ID, Slug: r.Slug, Severity: finding.Error, File: name, Line: 1,
			Message: r.Title + ": " + cleanCheckLine(strings.TrimSpace(output), back), Fix: r.Fix})
	}
	return out
}

func cleanCheckLine(line string, back map[string]string) string {
	for scratch, orig := range back {
		line = strings.ReplaceAll(line, scratch, orig)
	}
	return line
}
