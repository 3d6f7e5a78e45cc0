package nginx

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

type nginxConfig struct {
	file string
	// dir is the config's directory, from which relative file names are
	// read.
	dir string
	// reader reads the config and its includes and says which files the
	// proxy may read; sources keeps what it read, so a file read twice
	// (crossplane opens explicit includes to check them) counts once
	// against its limits.
	reader  *safefile.Reader
	sources map[string][]byte
	// allowCode lets directives that run code through (--allow-code).
	allowCode bool
	// tree and analysis are what Load read; every Render writes from them
	// without changing them.
	tree crossplane.Directives
	// config is the Load the tree comes from: the WebSocket route
	// detector reads its Nodes.
	config   *Config
	analysis *nginxAnalysis
}

// parse reads the config with Load (ForRewrite) and returns its tree with
// includes inlined. Included files that do not exist here (e.g.
// /etc/nginx/mime.types on another machine) read as empty; anything Load
// could not read (a syntax error, a file the reader refuses: outside the
// roots, a FIFO, a device, too large) stops the rewrite with an error at
// its line, so it never renders what it did not read.
func (n *nginxConfig) parse() (crossplane.Directives, error) {
	main, err := filepath.Abs(n.file)
	if err != nil {
		return nil, err
	}
	if n.reader == nil {
		n.reader = rewrite.Options{}.Reader(n.file)
	}
	text, preread := n.sources[main]
	open := func(path string) ([]byte, error) {
		if preread && path == main {
			return text, nil
		}
		return n.reader.Read(path)
	}
	limits := ReaderLimits(n.reader)
	limits.MaxNodes = DefaultMaxNodes
	c := Load(context.Background(), main, LoadOptions{Mode: ForRewrite, Open: open, Limits: limits})
	n.config, n.sources = c, c.sources
	if len(c.Problems) > 0 {
		p := c.Problems[0]
		return nil, &rewrite.Error{File: p.File, Line: p.Line, Msg: p.Message}
	}
	if c.Refused() {
		// A refused pattern no include line was found for.
		for pattern, why := range c.refused {
			return nil, &rewrite.Error{File: c.File, Msg: fmt.Sprintf("include %s refused: %s", pattern, why)}
		}
	}
	if c.Payload == nil || len(c.Payload.Config) == 0 {
		return nil, &rewrite.Error{File: n.file, Msg: "empty config"}
	}
	for _, cfg := range c.Payload.Config {
		setFile(cfg.Parsed, cfg.File, 0)
	}
	combined, err := c.Payload.Combined()
	if err != nil {
		return nil, &rewrite.Error{File: n.file, Msg: err.Error()}
	}
	return combined.Config[0].Parsed, nil
}

// setFile records in every directive the file it comes from, as
// crossplane does itself only when it combines while parsing.
func setFile(ds crossplane.Directives, file string, depth int) {
	if depth > 256 {
		return
	}
	for _, d := range ds {
		d.File = file
		setFile(d.Block, file, depth+1)
	}
}

// walk calls fn for every directive with its enclosing blocks (outermost
// first); fn returning false skips the directive's block.
func walkDirectives(ds crossplane.Directives, parents []*crossplane.Directive, fn func(d *crossplane.Directive, parents []*crossplane.Directive) bool) {
	for _, d := range ds {
		if fn(d, parents) && d.IsBlock() {
			walkDirectives(d.Block, append(parents, d), fn)
		}
	}
}

func inContext(parents []*crossplane.Directive, name string) bool {
	for _, p := range parents {
		if p.Directive == name {
			return true
		}
	}
	return false
}

func nearest(parents []*crossplane.Directive, name string) *crossplane.Directive {
	for i := len(parents) - 1; i >= 0; i-- {
		if parents[i].Directive == name {
			return parents[i]
		}
	}
	return nil
}

// proxyPassRe splits a proxy_pass argument into scheme, host[:port] and
// the rest (URI).
var proxyPassRe = regexp.MustCompile(`^(https?)://([^/]+)(.*)$`)

func sortedUpstreams(m map[string]*crossplane.Directive) []*crossplane.Directive {
	out := make([]*crossplane.Directive, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	// rewrite.Config order: by file, then line.
	slices.SortFunc(out, func(a, b *crossplane.Directive) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return out
}

// locationPath is a request path the location matches: its prefix, its
// exact path, or the literal start of its regex; "/" when unknown.
func locationPath(loc *crossplane.Directive) string {
	args := loc.Args
	if len(args) == 0 {
		return "/"
	}
	p := args[len(args)-1]
	if len(args) == 2 && (args[0] == "~" || args[0] == "~*") {
		p = regexLiteralPrefix(p)
	}
	if !strings.HasPrefix(p, "/") {
		return "/"
	}
	return p
}

// regexLiteralPrefix returns a path the regex matches at its start: the
// literal characters up to the first group, class or alternation. A
// character under ?, * or + is kept once (still a match); "." stands for
// itself.
func regexLiteralPrefix(re string) string {
	re = strings.TrimPrefix(re, "^")
	var b strings.Builder
	for i := 0; i < len(re); i++ {
		c := re[i]
		switch c {
		case '\\':
			if i+1 < len(re) && strings.IndexByte("./-_~", re[i+1]) >= 0 {
				b.WriteByte(re[i+1])
				i++
				continue
			}
			return b.String()
		case '.':
			if i+1 < len(re) && strings.IndexByte("*+?", re[i+1]) >= 0 {
				return b.String()
			}
			b.WriteByte(c)
		case '*', '+', '?':
		case '(', '[', '{', '|', '$', '^':
			return b.String()
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

var (
	hashCookie = regexp.MustCompile(`^\$cookie_(\w+)$`)
	hashHeader = regexp.MustCompile(`^\$http_(\w+)$`)
	hashArg    = regexp.MustCompile(`^\$arg_(\w+)$`)
)

func nginxAffinity(up *crossplane.Directive, notes []string) (rewrite.Affinity, []string) {
	for _, d := range up.Block {
		switch d.Directive {
		case "ip_hash":
			notes = append(notes, fmt.Sprintf("affinity: source from ip_hash (%s:%d; keys on the first three octets of IPv4 addresses)", d.File, d.Line))
			return rewrite.Affinity{Mode: topology.AffinitySource}, notes
		case "sticky":
			if len(d.Args) >= 2 && d.Args[0] == "cookie" {
				notes = append(notes, fmt.Sprintf("affinity: cookie %s from sticky (%s:%d)", d.Args[1], d.File, d.Line))
				return rewrite.Affinity{Mode: topology.AffinityCookie, Key: d.Args[1]}, notes
			}
		case "hash":
			if len(d.Args) == 0 {
				continue
			}
			a := rewrite.Affinity{Consistent: len(d.Args) > 1 && d.Args[1] == "consistent"}
			key := d.Args[0]
			switch {
			case key == "$remote_addr" || key == "$binary_remote_addr":
				a.Mode = topology.AffinitySource
			case hashCookie.MatchString(key):
				a.Mode, a.Key = topology.AffinityCookie, hashCookie.FindStringSubmatch(key)[1]
				a.ClientCookie = true
			case hashHeader.MatchString(key):
				a.Mode, a.Key = topology.AffinityHeader, headerName(hashHeader.FindStringSubmatch(key)[1])
			case hashArg.MatchString(key):
				a.Mode, a.Key = topology.AffinityQuery, hashArg.FindStringSubmatch(key)[1]
			default:
				notes = append(notes, fmt.Sprintf("affinity: none (hash %s is not a per-client key; %s:%d)", key, d.File, d.Line))
				return rewrite.Affinity{Mode: topology.AffinityNone}, notes
			}
			notes = append(notes, fmt.Sprintf("affinity: %s from hash %s (%s:%d)", strings.TrimSpace(string(a.Mode)+" "+a.Key), key, d.File, d.Line))
			return a, notes
		}
	}
	notes = append(notes, "affinity: none (upstream "+up.Args[0]+" has no ip_hash, hash or sticky)")
	return rewrite.Affinity{Mode: topology.AffinityNone}, notes
}

// headerName turns nginx's $http_x_user_id suffix into X-User-Id.
func headerName(v string) string {
	parts := strings.Split(v, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + strings.ToLower(p[1:])
		}
	}
	return strings.Join(parts, "-")
}

// Directives removed wherever they appear: privileges, daemonizing,
// machine paths, TLS, DNS resolution.
var nginxDrop = map[string]string{
	"user": "`user`", "daemon": "`daemon` (runs in the foreground)", "pid": "`pid` (moved to the scratch dir)",
	"error_log": "`error_log` (moved to the scratch dir)", "access_log": "`access_log` (off)",
	"client_body_temp_path": "temp paths (moved to the scratch dir)", "proxy_temp_path": "temp paths (moved to the scratch dir)",
	"fastcgi_temp_path": "temp paths (moved to the scratch dir)", "uwsgi_temp_path": "temp paths (moved to the scratch dir)",
	"scgi_temp_path": "temp paths (moved to the scratch dir)", "resolver": "`resolver` (no DNS needed)",
	"http2": "`http2`", "ssl": "TLS directives (clients speak plain HTTP)", "lock_file": "`lock_file`",
	"working_directory": "`working_directory`", "worker_priority": "`worker_priority`", "worker_cpu_affinity": "`worker_cpu_affinity`",
}

// nginxPrefix is where Debian's nginx resolves relative paths by default.
const nginxPrefix = "/usr/share/nginx"

// Blocks whose entries are data, not directives.
var opaqueBlocks = map[string]bool{"map": true, "geo": true, "split_clients": true, "types": true, "charset_map": true, "match": true}

var keepListenParam = regexp.MustCompile(`^(default_server|default|deferred|reuseport|backlog=\d+|rcvbuf=\w+|sndbuf=\w+|so_keepalive=\S+)$`)

func (n *nginxConfig) render(c *rewrite.Config, l rewrite.Local) (*rewrite.Result, error) {
	tree, a := n.tree, n.analysis
	res := c.NewResult(Descriptor.Name, Descriptor.ConfigName)
	for _, s := range c.WebSocketServers() {
		res.HeaderIDs[l.Backends[s.ID]] = s.ID
	}
	// Maps that name servers by address ("map $upstream_addr $server")
	// must name the local backends instead.
	var pairs []string
	for _, s := range c.Servers {
		for _, form := range addrForms(s.Addr) {
			local := l.Backends[s.ID]
			if form.quoted {
				local = regexp.QuoteMeta(local)
			}
			pairs = append(pairs, form.text, local)
		}
	}
	addrs := newLongestFirstReplacer(pairs)

	// Every server block in http gets its own port.
	var servers []*crossplane.Directive
	walkDirectives(tree, nil, func(d *crossplane.Directive, parents []*crossplane.Directive) bool {
		if d.Directive == "server" && d.IsBlock() && inContext(parents, "http") {
			servers = append(servers, d)
		}
		return true
	})
	listen, err := l.ListenAddrs(len(servers))
	if err != nil {
		return nil, err
	}
	portOf := map[*crossplane.Directive]string{}
	for i, s := range servers {
		addr := listen[i].String()
		portOf[s] = addr
		res.Listeners[fmt.Sprintf("server:%d", s.Line)] = addr
	}
	res.Listen = portOf[a.wsServer]

	dropped := map[string]int{}
	mapAddrs := 0
	var rewriteBlock func(block crossplane.Directives, parents []*crossplane.Directive) crossplane.Directives
	rewriteBlock = func(block crossplane.Directives, parents []*crossplane.Directive) crossplane.Directives {
		out := crossplane.Directives{} // non-nil: an empty block stays a block
		parent := (*crossplane.Directive)(nil)
		if len(parents) > 0 {
			parent = parents[len(parents)-1]
		}
		for _, d := range block {
			name := d.Directive
			if why, ok := nginxDrop[name]; ok {
				dropped[why]++
				continue
			}
			if nginxTLS(name) {
				dropped["TLS directives (clients speak plain HTTP)"]++
				continue
			}
			if (name == "stream" || name == "mail") && len(parents) == 0 {
				dropped["`"+name+"` blocks (only HTTP is verified)"]++
				continue
			}
			switch name {
			case "load_module":
				// Relative module paths resolve against the prefix, which is
				// now the scratch dir: make them absolute.
				if len(d.Args) > 0 {
					d = &crossplane.Directive{File: d.File, Line: d.Line, Directive: name, Args: []string{modulePath(d.Args[0])}}
				}

			case "listen":
				if parent == nil || parent.Directive != "server" {
					break
				}
				if portOf[parent] == "" {
					dropped["extra `listen` lines (one local port per server block)"]++
					continue
				}
				args := []string{portOf[parent]}
				for i, p := range d.Args {
					if i > 0 && keepListenParam.MatchString(p) { // Args[0] is the address
						args = append(args, p)
					}
				}
				if strings.Contains(strings.Join(d.Args, " "), "ssl") {
					res.Notes = append(res.Notes, fmt.Sprintf("server at %s:%d: TLS removed, clients speak plain HTTP/WebSocket", parent.File, parent.Line))
				}
				portOf[parent] = "" // one listen per server block
				d = &crossplane.Directive{File: d.File, Line: d.Line, Directive: "listen", Args: args}
			case "server":
				if parent != nil && parent.Directive == "upstream" && len(parent.Args) == 1 && a.upstreams[parent.Args[0]] == parent && len(d.Args) > 0 {
					idx := 0 // counted as collectServers does
					for _, s := range parent.Block {
						if s.Directive == "server" && len(s.Args) > 0 {
							idx++
						}
						if s == d {
							break
						}
					}
					addr := l.Backends[a.slots[fmt.Sprintf("%s-%d", parent.Args[0], idx)]]
					var params []string
					for _, p := range d.Args[1:] {
						if p == "backup" || p == "down" || strings.HasPrefix(p, "weight=") || strings.HasPrefix(p, "max_fails=") ||
							strings.HasPrefix(p, "fail_timeout=") || strings.HasPrefix(p, "max_conns=") {
							params = append(params, p)
						}
					}
					if l.FastChecks {
						params = fastNginxServerArgs(params)
					}
					args := append([]string{addr}, params...)
					d = &crossplane.Directive{File: d.File, Line: d.Line, Directive: "server", Args: args}
				}
			case "proxy_pass":
				if m := proxyPassRe.FindStringSubmatch(firstArg(d)); m != nil {
					host := m[2]
					if id, ok := a.direct[host]; ok {
						host = l.Backends[id]
					}
					d = &crossplane.Directive{File: d.File, Line: d.Line, Directive: "proxy_pass", Args: []string{"http://" + host + m[3]}}
				}
			case "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass":
				// Only proxy_pass reaches echo backends; these would reach
				// (and resolve) the user's real servers.
				dropped["`fastcgi_pass`, `uwsgi_pass`, `scgi_pass`, `grpc_pass` and `memcached_pass` (their locations answer 502)"]++
				d = &crossplane.Directive{File: d.File, Line: d.Line, Directive: "return", Args: []string{"502"}}
			case "proxy_cache_path", "fastcgi_cache_path", "uwsgi_cache_path", "scgi_cache_path":
				if len(d.Args) > 0 {
					args := append([]string{filepath.Join(l.Dir, "cache", strconv.Itoa(d.Line))}, d.Args[1:]...)
					d = &crossplane.Directive{File: d.File, Line: d.Line, Directive: name, Args: args}
				}
			case "return", "rewrite":
				if strings.Contains(strings.Join(d.Args, " "), "https://") {
					dropped["redirects to https (TLS is removed)"]++
					continue
				}
			}
			nd := *d
			nd.Includes = nil
			if name == "map" && d.IsBlock() {
				nd.Block = rewriteMapAddrs(d.Block, addrs, &mapAddrs)
			}
			if d.IsBlock() && !opaqueBlocks[name] {
				// Children see the original block as parent: ports and
				// upstream server numbers are keyed by it.
				nd.Block = rewriteBlock(d.Block, append(parents[:len(parents):len(parents)], d))
			}
			switch {
			case name == "http":
				nd.Block = append(crossplane.Directives{
					{Directive: "access_log", Args: []string{"off"}},
					{Directive: "client_body_temp_path", Args: []string{filepath.Join(l.Dir, "client_body_temp")}},
					{Directive: "proxy_temp_path", Args: []string{filepath.Join(l.Dir, "proxy_temp")}},
					{Directive: "fastcgi_temp_path", Args: []string{filepath.Join(l.Dir, "fastcgi_temp")}},
					{Directive: "uwsgi_temp_path", Args: []string{filepath.Join(l.Dir, "uwsgi_temp")}},
					{Directive: "scgi_temp_path", Args: []string{filepath.Join(l.Dir, "scgi_temp")}},
					{Directive: "add_header", Args: []string{rewrite.ServerHeader, "$upstream_addr", "always"}},
				}, nd.Block...)
			case name == "server" && d.IsBlock() && portOf[d] != "":
				// A server block without listen would take port 80.
				nd.Block = append(crossplane.Directives{{Directive: "listen", Args: []string{portOf[d]}}}, nd.Block...)
				portOf[d] = ""
			}
			if d.IsBlock() && name != "http" && hasAddHeaderIn(d.Block) {
				nd.Block = append(nd.Block, &crossplane.Directive{Directive: "add_header", Args: []string{rewrite.ServerHeader, "$upstream_addr", "always"}})
			}
			out = append(out, &nd)
		}
		return out
	}
	rewritten := rewriteBlock(tree, nil)
	head := crossplane.Directives{
		{Directive: "daemon", Args: []string{"off"}},
		{Directive: "pid", Args: []string{filepath.Join(l.Dir, "nginx.pid")}},
		{Directive: "error_log", Args: []string{filepath.Join(l.Dir, "error.log"), "notice"}},
	}
	var buf bytes.Buffer
	all := append(head, rewritten...)
	res.Sources = buildOrigins(all, nil)
	if err := crossplane.Build(&buf, crossplane.Config{Parsed: all}, &crossplane.BuildOptions{}); err != nil {
		return nil, fmt.Errorf("render %s: %w", c.File, err)
	}
	buf.WriteByte('\n')
	if mapAddrs > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("map entries naming server addresses now name the local backends (%d)", mapAddrs))
	}
	for _, what := range rewrite.SortedKeys(dropped) {
		res.Notes = append(res.Notes, "dropped "+what)
	}
	if l.FastChecks {
		res.Notes = append(res.Notes, "health checks: fail_timeout set as for checks every "+rewrite.FastMs+" × max_fails (at least 1s; max_fails as written)")
	}
	res.Config = buf.Bytes()
	return res, nil
}

// addrForm is a way a server address appears in a map: as written, or
// escaped in a regex.
type addrForm struct {
	text   string
	quoted bool
}

// addrForms lists how a server address can appear in a map: nginx names an
// upstream server in $upstream_addr as host:port (port 80 by default).
func addrForms(addr string) []addrForm {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		if strings.HasPrefix(addr, "unix:") {
			return nil
		}
		addr += ":80"
	}
	forms := []addrForm{{text: addr}}
	if q := regexp.QuoteMeta(addr); q != addr {
		forms = append(forms, addrForm{text: q, quoted: true})
	}
	return forms
}

// newLongestFirstReplacer replaces old/new pairs preferring longer olds,
// so "10.0.0.1:8080" is not taken for "10.0.0.1:80" followed by "80".
func newLongestFirstReplacer(pairs []string) *strings.Replacer {
	type pair struct{ old, new string }
	ps := make([]pair, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		ps = append(ps, pair{pairs[i], pairs[i+1]})
	}
	sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].old) > len(ps[j].old) })
	flat := make([]string, 0, len(pairs))
	for _, p := range ps {
		flat = append(flat, p.old, p.new)
	}
	return strings.NewReplacer(flat...)
}

// rewriteMapAddrs points map entries that name a server's address at its
// local backend.
func rewriteMapAddrs(block crossplane.Directives, addrs *strings.Replacer, changed *int) crossplane.Directives {
	out := make(crossplane.Directives, 0, len(block))
	for _, e := range block {
		ne := *e
		ne.Directive = addrs.Replace(e.Directive)
		ne.Args = make([]string, len(e.Args))
		for i, a := range e.Args {
			ne.Args[i] = addrs.Replace(a)
		}
		if ne.Directive != e.Directive || strings.Join(ne.Args, " ") != strings.Join(e.Args, " ") {
			*changed++
		}
		out = append(out, &ne)
	}
	return out
}

func hasAddHeaderIn(block crossplane.Directives) bool {
	for _, d := range block {
		if d.Directive == "add_header" {
			return true
		}
	}
	return false
}

func firstArg(d *crossplane.Directive) string {
	if len(d.Args) == 0 {
		return ""
	}
	return d.Args[0]
}

// modulePath resolves a load_module path as nginx would with its default
// prefix.
func modulePath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(nginxPrefix, p)
}

// buildOrigins lists, line by line, where crossplane.Build's output comes
// from: one line per directive, and one for each closing brace.
func buildOrigins(block crossplane.Directives, out []rewrite.SourceLine) []rewrite.SourceLine {
	for _, d := range block {
		out = append(out, rewrite.SourceLine{File: d.File, Line: d.Line})
		if d.IsBlock() {
			out = buildOrigins(d.Block, out)
			out = append(out, rewrite.SourceLine{})
		}
	}
	return out
}
