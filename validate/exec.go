package validate

import (
	"bytes"
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

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/rules"
)

// stubAddress stands in for every host name in a server address when the
// binary checks the config.
const stubAddress = "127.0.0.1"

// maxListedHosts bounds the host names a note lists by name.
const maxListedHosts = 10

// execCheck runs the real binary's own config check on a scratch copy of
// src (parsed as h or n) with host names in server addresses stubbed.
func execCheck(ctx context.Context, src Source, h *haproxy.Config, n *nginx.Config, opts Options) ([]Finding, []string, error) {
	lookup := opts.Binaries
	if lookup == nil {
		lookup = proxybin.Lookup
	}
	bin, err := lookup(src.Kind)
	if err != nil {
		return nil, nil, fmt.Errorf("--exec: %w", err)
	}
	// Owned, so that a run killed meanwhile leaves nothing for long: the
	// next one (or wslb verify --cleanup) removes it.
	scratch, err := loopback.NewScratchNamed(loopback.ExecPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("--exec: %w", err)
	}
	defer scratch.Close()
	dir := scratch.Dir

	files, main, st, err := scratchCopy(src, h, n, dir)
	if err != nil {
		return nil, nil, err
	}
	notes := st.notes(src.Name)
	if note := originNote(src.Name, bin, n); note != "" {
		notes = append(notes, note)
	}
	err = bin.Check(ctx, main)
	var ce *proxybin.CheckError
	if errors.As(err, &ce) && ctx.Err() == nil {
		back := map[string]string{}
		for orig, scratch := range files {
			back[scratch] = orig
		}
		return checkFindings(src.Name, ce.Output, back), notes, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, notes, ctx.Err()
		}
		return nil, notes, fmt.Errorf("--exec %s: %w", src.Name, err)
	}
	return nil, notes, nil
}

// nginxAllOrigins is the first NGINX that keeps every Origin line in
// $http_origin (joined by commas); older ones keep only the first.
var nginxAllOrigins = [3]int{1, 23, 0}

// originNote warns when the NGINX --exec runs is older than
// nginxAllOrigins and the config reads $http_origin: an Origin check there
// decides on the first of several Origin lines alone (docs/security.md).
func originNote(name string, bin proxybin.Binary, n *nginx.Config) string {
	v := nginxAllOrigins
	// n is set for an NGINX source only, so bin is an nginx.
	if n == nil || bin.Version.AtLeast(v[0], v[1], v[2]) || !readsVar(n, httpOriginVar) {
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

// stubs says which tokens in server addresses were replaced and which were
// left as written.
type stubs struct {
	replaced []string // host names
	kept     []string // address tokens that are not host names
	unplaced []string // host names not found verbatim where the parser saw them
}

// notes tells the user what the check ran on instead of their file.
func (s stubs) notes(name string) []string {
	var out []string
	if len(s.replaced) > 0 {
		out = append(out, fmt.Sprintf("--exec checked %s with the host names of its server addresses replaced by %s, so that the check does not depend on DNS (it runs without network access where the machine allows it; whether the names resolve was not checked): %s",
			name, stubAddress, listSome(s.replaced)))
	}
	if len(s.kept) > 0 {
		out = append(out, fmt.Sprintf("--exec left these server addresses in %s as written, because they are not host names: %s",
			name, listSome(s.kept)))
	}
	if len(s.unplaced) > 0 {
		out = append(out, fmt.Sprintf("--exec left these host names in %s as written, because they are spelt with escapes or over several lines: %s",
			name, listSome(s.unplaced)))
	}
	return out
}

// listSome joins names, naming at most maxListedHosts of them.
func listSome(names []string) string {
	if len(names) <= maxListedHosts {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListedHosts], ", "), len(names)-maxListedHosts)
}

// hostEdit is a host name at a byte offset of a file.
type hostEdit struct {
	off  int
	host string
}

// scratchCopy writes src (and, for NGINX, the files it includes from
// below its directory) into dir with host names stubbed. An NGINX snippet
// (a conf.d file) is included from a minimal main config, the way nginx
// would read it. It returns the original → scratch path map, the file to
// check and what was stubbed.
//
// Only tokens that the directive's grammar makes a host name are
// replaced: the address of an HAProxy server or server-template line,
// the host of an NGINX upstream server and of a *_pass URL that names no
// upstream. Keywords (an address forgotten: "server s1 check"),
// placeholders ("<host>"), variables and anything else that is not a
// host name stay as written, so the binary reports them.
func scratchCopy(src Source, h *haproxy.Config, n *nginx.Config, dir string) (files map[string]string, main string, st stubs, err error) {
	files = map[string]string{}
	contents := map[string][]byte{}
	edits := map[string][]hostEdit{}
	replaced, kept, unplaced := map[string]bool{}, map[string]bool{}, map[string]bool{}
	// add records the address token tok found at byte offset off of file,
	// where host is the part that names the host (empty: none).
	add := func(file string, off int, tok, host string, hostAt int) {
		switch {
		case host == "" || net.ParseIP(host) != nil:
		case !isHostName(host) || rules.ServerKeyword(strings.ToLower(host)):
			kept[tok] = true
		case off < 0:
			unplaced[host] = true
		default:
			edits[file] = append(edits[file], hostEdit{off: off + hostAt, host: host})
			replaced[host] = true
		}
	}
	snippet := false
	switch {
	case h != nil:
		contents[src.Name] = src.Bytes
		starts := lineStarts(src.Bytes)
		for _, s := range h.Sections {
			for _, d := range s.Directives {
				i := 0 // the address's argument
				switch d.Keyword {
				case "server":
					i = 1
				case "server-template":
					i = 2
				}
				if i == 0 || len(d.Args) <= i {
					continue
				}
				tok := d.Args[i]
				host, at := addrHost(tok)
				off := -1
				if d.Line-1 < len(starts) {
					// The column is where the token starts as written;
					// stub only when it is written plainly.
					o := starts[d.Line-1] + d.ArgColumns[i] - 1
					if o < len(src.Bytes) && (src.Bytes[o] == '"' || src.Bytes[o] == '\'') {
						o++
					}
					if o+len(tok) <= len(src.Bytes) && string(src.Bytes[o:o+len(tok)]) == tok {
						off = o
					}
				}
				add(src.Name, off, tok, host, at)
			}
		}
	case n != nil:
		for _, f := range n.Files() {
			contents[f] = n.Source(f)
		}
		snippet = n.Snippet
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
			host, at := urlHost(tok)
			if x.Name != "server" && n.Upstream(host) != nil {
				return // names an upstream block, not a host
			}
			if starts[x.File] == nil {
				starts[x.File] = lineStarts(contents[x.File])
			}
			add(x.File, argOffset(contents[x.File], starts[x.File], x, tok), tok, host, at)
		})
	}
	for h := range replaced {
		st.replaced = append(st.replaced, h)
	}
	for k := range kept {
		st.kept = append(st.kept, k)
	}
	for u := range unplaced {
		st.unplaced = append(st.unplaced, u)
	}
	sort.Strings(st.replaced)
	sort.Strings(st.kept)
	sort.Strings(st.unplaced)

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
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return nil, "", st, fmt.Errorf("--exec: %w", err)
		}
		if err := os.WriteFile(out, applyStubs(data, edits[file]), 0o644); err != nil {
			return nil, "", st, fmt.Errorf("--exec: %w", err)
		}
		files[file] = out
	}
	main = files[src.Name]
	if snippet {
		wrapper := filepath.Join(dir, "wslb-main.conf")
		text := fmt.Sprintf("events {}\nhttp {\n    include %s;\n}\n", filepath.Base(main))
		if err := os.WriteFile(wrapper, []byte(text), 0o644); err != nil {
			return nil, "", st, fmt.Errorf("--exec: %w", err)
		}
		main = wrapper
	}
	return files, main, st, nil
}

// applyStubs replaces each edit's host by stubAddress; line numbers stay.
func applyStubs(data []byte, edits []hostEdit) []byte {
	if len(edits) == 0 {
		return data
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].off < edits[j].off })
	var b bytes.Buffer
	last := 0
	for _, e := range edits {
		if e.off < last {
			continue // the same token reached twice (a file included twice)
		}
		b.Write(data[last:e.off])
		b.WriteString(stubAddress)
		last = e.off + len(e.host)
	}
	b.Write(data[last:])
	return b.Bytes()
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// argOffset finds the first argument of an NGINX directive as written
// in data (whose lineStarts are starts), bare or in quotes, on the
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

// addrHost takes the host from an HAProxy or NGINX server address:
// "host:port", "host" or "host:port-range"; bracketed and bare IPv6,
// unix sockets, "family@" addresses and variables have none. at is the
// host's offset in addr.
func addrHost(addr string) (host string, at int) {
	if addr == "" || strings.ContainsAny(addr, "@$[") || strings.HasPrefix(addr, "unix:") || strings.HasPrefix(addr, "/") {
		return "", 0
	}
	switch strings.Count(addr, ":") {
	case 0:
		return addr, 0
	case 1:
		return addr[:strings.IndexByte(addr, ':')], 0
	}
	return "", 0 // bare IPv6
}

// urlHost takes the host from an NGINX *_pass argument:
// "scheme://host:port/path" or "host:port".
func urlHost(arg string) (host string, at int) {
	at = 0
	if i := strings.Index(arg, "://"); i >= 0 {
		at = i + 3
	}
	rest := arg[at:]
	if j := strings.IndexAny(rest, "/?"); j >= 0 {
		rest = rest[:j]
	}
	host, off := addrHost(rest)
	return host, at + off
}

// isHostName reports whether s is spelled like a DNS host name: labels of
// letters, digits, '-' and '_' separated by dots.
func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
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
