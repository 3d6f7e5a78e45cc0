package haproxy

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/haproxytech/config-parser/v5/params"

	"github.com/wslb/wslb/internal/coderun"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

// hline is one line of a HAProxy config, split into words as HAProxy does
// (quotes kept, so words can be joined back unchanged).
type hline struct {
	num   int
	raw   string
	parts []string
}

func (l hline) kw() string {
	if len(l.parts) == 0 {
		return ""
	}
	return l.parts[0]
}

// hsection is a section header and its body lines.
type hsection struct {
	kind   string // "" for lines before the first section
	name   string
	header hline
	body   []hline
	// defaults is the defaults section this proxy inherits from.
	defaults *hsection
}

// Sections that reach other machines or run programs; they are removed.
var haproxyDropSections = map[string]string{
	"peers":       "peers sections (they connect to other machines)",
	"resolvers":   "resolvers sections (DNS is not needed for local servers)",
	"mailers":     "mailers sections (no mail is sent)",
	"program":     "program sections (no external programs are started)",
	"ring":        "ring sections (logs go to the proxy's output)",
	"log-forward": "log-forward sections",
}

// indexHAProxy splits the config into sections of lines, each split into
// words the way HAProxy does (proxy/Tokenize), so keywords are
// matched as HAProxy reads them ("server", se"rv"er). Conditional blocks
// (.if ... .endif) are kept, with every branch checked: a section keyword
// inside one is refused, as verify could not tell where the lines below
// it belong.
func indexHAProxy(file string, text []byte) ([]*hsection, error) {
	cur := &hsection{}
	sections := []*hsection{cur}
	var lastDefaults *hsection
	named := map[string]*hsection{}
	var open []int // lines of the .if blocks open
	for i, raw := range strings.Split(string(text), "\n") {
		raw = strings.TrimRight(raw, "\r")
		words, _, err := Tokenize(raw)
		if err != nil {
			return nil, &rewrite.Error{File: file, Line: i + 1, Msg: fmt.Sprintf("HAProxy cannot read this line: %v", err)}
		}
		parts := make([]string, len(words))
		for j, w := range words {
			parts[j] = w.Text
		}
		l := hline{num: i + 1, raw: raw, parts: parts}
		switch l.kw() {
		case ".if":
			open = append(open, l.num)
		case ".endif":
			if len(open) == 0 {
				return nil, &rewrite.Error{File: file, Line: l.num, Msg: ".endif without .if"}
			}
			open = open[:len(open)-1]
		case ".elif", ".else":
			if len(open) == 0 {
				return nil, &rewrite.Error{File: file, Line: l.num, Msg: l.kw() + " without .if"}
			}
		}
		if len(parts) > 0 && sectionKeywords[parts[0]] {
			if len(open) > 0 {
				return nil, &rewrite.Error{File: file, Line: l.num, Msg: fmt.Sprintf("section %q inside the .if block of line %d: verify cannot tell which section the lines below belong to; move the section out of the block", parts[0], open[len(open)-1])}
			}
			cur = &hsection{kind: parts[0], header: l}
			if len(parts) > 1 {
				cur.name = parts[1]
			}
			sections = append(sections, cur)
			switch cur.kind {
			case "defaults":
				lastDefaults = cur
				if cur.name != "" {
					named[cur.name] = cur
				}
			case "frontend", "backend", "listen":
				cur.defaults = lastDefaults
				for j := 2; j+1 < len(parts); j++ {
					if parts[j] == "from" {
						cur.defaults = named[parts[j+1]]
					}
				}
			}
			continue
		}
		cur.body = append(cur.body, l)
	}
	if len(open) > 0 {
		return nil, &rewrite.Error{File: file, Line: open[len(open)-1], Msg: ".if without .endif"}
	}
	return sections, nil
}

// lookup returns the last line with keyword kw in the section, falling back
// to its defaults section.
func (s *hsection) lookup(kw string) (hline, bool) {
	for i := len(s.body) - 1; i >= 0; i-- {
		if s.body[i].kw() == kw {
			return s.body[i], true
		}
	}
	if s.defaults != nil {
		return s.defaults.lookup(kw)
	}
	return hline{}, false
}

func (s *hsection) lines(kw string) []hline {
	var out []hline
	for _, l := range s.body {
		if l.kw() == kw {
			out = append(out, l)
		}
	}
	return out
}

type haproxyConfig struct {
	file string
	// dir is the config's directory, from which relative file names are
	// read; reader says which files the proxy may read.
	dir      string
	reader   *safefile.Reader
	sections []*hsection
	// allowCode lets lines that run code through (--allow-code).
	allowCode bool
	// wsFrontend is the frontend or listen section that routes to the
	// WebSocket pool.
	wsFrontend *hsection
}

func loadHAProxy(path string, text []byte, r *safefile.Reader, allowCode bool) (*rewrite.Config, error) {
	sections, err := indexHAProxy(path, text)
	if err != nil {
		return nil, err
	}
	h := &haproxyConfig{file: path, dir: rewrite.ConfigDir(path), reader: r, sections: sections, allowCode: allowCode}
	for _, s := range h.sections {
		if s.kind != "" {
			if why, ok := coderun.HAProxy(s.kind, s.kind, nil); ok && !h.allowCode {
				return nil, rewrite.CodeError(path, s.header.num, s.kind, why)
			}
			if _, dropped := haproxyDropSections[s.kind]; dropped {
				continue
			}
		}
		for _, l := range s.body {
			if l.kw() == "" || Conditional(l.kw()) {
				continue
			}
			if s.kind == "" {
				return nil, &rewrite.Error{File: path, Line: l.num, Msg: fmt.Sprintf("%q is outside any section", l.kw())}
			}
			if err := h.checkHAProxyLine(s.kind, l); err != nil {
				return nil, err
			}
		}
	}
	c := &rewrite.Config{Kind: proxybin.HAProxy, File: path, Path: "/"}

	var frontends []*hsection
	backends := map[string]*hsection{}
	for _, s := range h.sections {
		switch s.kind {
		case "frontend", "listen":
			if len(s.lines("bind")) > 0 {
				frontends = append(frontends, s)
			}
		}
		if s.kind == "backend" || s.kind == "listen" {
			backends[s.name] = s
			for _, l := range s.body {
				switch l.kw() {
				case "server-template":
					return nil, &rewrite.Error{File: path, Line: l.num, Msg: "server-template is not supported: list the servers with `server NAME ADDRESS` lines"}
				case "server":
					srv, err := parseHAProxyServer(path, s.name, l)
					if err != nil {
						return nil, err
					}
					c.Servers = append(c.Servers, srv)
				}
			}
		}
	}
	if len(frontends) == 0 {
		return nil, &rewrite.Error{File: path, Msg: "no frontend or listen section with a `bind` line: nothing accepts client connections"}
	}
	if len(c.Servers) == 0 {
		return nil, &rewrite.Error{File: path, Msg: "no `server` lines in any backend or listen section: nothing to send clients to"}
	}

	fe, be, why, path2 := h.findWebSocketRoute(frontends, backends, detectedPools(path, text))
	if be == nil {
		return nil, &rewrite.Error{File: path, Line: fe.header.num, Msg: fmt.Sprintf("%s %s routes to no backend with servers: add a default_backend", fe.kind, fe.name)}
	}
	h.wsFrontend = fe
	c.Pool = be.name
	c.Route = rewrite.SourceLine{File: path, Line: be.header.num}
	if path2 != "" {
		c.Path = path2
	}
	c.Notes = append(c.Notes, fmt.Sprintf("WebSocket route: %s %s → %s %s (%s)", fe.kind, fe.name, be.kind, be.name, why))
	for i := range c.Servers {
		c.Servers[i].WebSocket = c.Servers[i].Pool == be.name
	}
	rewrite.AssignIDs(c.Servers)
	c.Affinity, c.Notes = haproxyAffinity(be, c.Notes)
	if c.Timers, err = h.haproxyTimers(be); err != nil {
		return nil, err
	}
	if c.Affinity.Mode == topology.AffinityCookie {
		for _, s := range c.WebSocketServers() {
			if !serverHasCookie(be, s.Line) {
				c.Notes = append(c.Notes, fmt.Sprintf("server %s has no `cookie VALUE`: HAProxy cannot pin clients to it by cookie", s.Name))
			}
		}
	}
	c.SetRender(func(l rewrite.Local) (*rewrite.Result, error) { return h.render(c, l) })
	if o, l := haproxyAllowedOrigin(h.sections); o != "" {
		c.AllowedOrigin = o
		c.Notes = append(c.Notes, fmt.Sprintf("handshakes send Origin %s, which the acl at %s:%d allows", o, path, l.num))
	}
	return c, nil
}

func serverHasCookie(be *hsection, line int) bool {
	for _, l := range be.body {
		if l.num == line {
			for _, o := range params.ParseServerOptions(l.parts[3:]) {
				if v, ok := o.(*params.ServerOptionValue); ok && v.Name == "cookie" {
					return true
				}
			}
		}
	}
	return false
}

func parseHAProxyServer(path, pool string, l hline) (rewrite.Server, error) {
	if len(l.parts) < 3 {
		return rewrite.Server{}, &rewrite.Error{File: path, Line: l.num, Msg: "server line needs a name and an address: `server NAME ADDRESS [options]`"}
	}
	s := rewrite.Server{Name: l.parts[1], Pool: pool, Addr: l.parts[2], Weight: 1, File: path, Line: l.num}
	for _, o := range params.ParseServerOptions(l.parts[3:]) {
		switch o := o.(type) {
		case *params.ServerOptionWord:
			if o.Name == "backup" {
				s.Backup = true
			}
		case *params.ServerOptionValue:
			if o.Name == "weight" {
				w, err := strconv.Atoi(o.Value)
				if err != nil || w < 0 || w > 256 {
					return rewrite.Server{}, &rewrite.Error{File: path, Line: l.num, Msg: fmt.Sprintf("server %s: weight %q is not a number from 0 to 256", s.Name, o.Value)}
				}
				s.Weight = w
			}
		}
	}
	return s, nil
}

// ACL criteria that mark a WebSocket route.
var (
	wsHeaderCriterion = regexp.MustCompile(`(?i)^(req\.)?hdr(_beg|_sub|_str|_reg|_end)?\((upgrade|connection)\)$`)
	pathCriterion     = regexp.MustCompile(`^(path|path_beg|path_dir|path_reg|path_sub|path_end|url_beg)(,.*)?$`)
)

// detectedPools are the lines of the backend and listen sections that
// DetectWebSockets, the detector validate's rules read, says serve
// WebSockets.
func detectedPools(file string, text []byte) map[int]bool {
	c := Index(file, text)
	out := map[int]bool{}
	for s := range DetectWebSockets(c, false).Backends {
		out[s.Line] = true
	}
	return out
}

// findWebSocketRoute picks the frontend and backend that serve WebSockets.
// The pools are the detector's (detected, by section line) when it finds
// any that a frontend routes to; among them, and among all routes when it
// finds none, a use_backend whose condition tests the Upgrade or
// Connection header wins, then one whose ACLs test a WebSocket-looking
// path, then a backend named like one, then the first frontend's default
// backend.
func (h *haproxyConfig) findWebSocketRoute(frontends []*hsection, backends map[string]*hsection, detected map[int]bool) (fe, be *hsection, why, path string) {
	type candidate struct {
		fe, be *hsection
		score  int
		why    string
		path   string
	}
	var best, bestDetected *candidate
	consider := func(c candidate) {
		if c.be == nil || len(c.be.lines("server")) == 0 {
			return
		}
		if best == nil || c.score > best.score {
			best = &c
		}
		if detected[c.be.header.num] && (bestDetected == nil || c.score > bestDetected.score) {
			bestDetected = &c
		}
	}
	for _, f := range frontends {
		if f.kind == "listen" {
			consider(candidate{fe: f, be: f, score: 1, why: "listen section"})
		}
		acls := map[string][][]string{} // name → criterion and values of each acl line
		for _, l := range f.lines("acl") {
			if len(l.parts) >= 3 {
				acls[l.parts[1]] = append(acls[l.parts[1]], l.parts[2:])
			}
		}
		for _, l := range f.lines("use_backend") {
			if len(l.parts) < 2 {
				continue
			}
			b := backends[l.parts[1]]
			score, why, path := 2, "use_backend", ""
			for _, tests := range conditionTests(l.parts[2:], acls) {
				crit := tests[0]
				switch {
				case wsHeaderCriterion.MatchString(crit):
					score, why = 10, "use_backend on the Upgrade header"
				case pathCriterion.MatchString(crit) && len(tests) > 1:
					for _, v := range tests[1:] {
						if strings.HasPrefix(v, "-") {
							continue
						}
						if path == "" {
							path = strings.Trim(v, `"'`)
						}
						if rewrite.WebSocketName.MatchString(strings.Trim(v, "/\"'")) && score < 8 {
							score, why = 8, "use_backend on a WebSocket path"
						}
					}
				}
			}
			if score < 8 && rewrite.WebSocketName.MatchString(l.parts[1]) {
				score, why = 6, "backend named for WebSockets"
			}
			if score < 8 {
				path = ""
			}
			consider(candidate{fe: f, be: b, score: score, why: why, path: path})
		}
		if l, ok := f.lookup("default_backend"); ok && len(l.parts) > 1 {
			b := backends[l.parts[1]]
			score, why := 3, "default_backend"
			if b != nil && rewrite.WebSocketName.MatchString(b.name) {
				score, why = 6, "backend named for WebSockets"
			}
			consider(candidate{fe: f, be: b, score: score, why: why})
		}
	}
	if best == nil {
		return frontends[0], nil, "", ""
	}
	if bestDetected != nil {
		best = bestDetected
	}
	if best.path != "" && !strings.HasPrefix(best.path, "/") {
		best.path = ""
	}
	return best.fe, best.be, best.why, best.path
}

// conditionTests lists the ACL tests (criterion followed by values) a
// use_backend condition refers to, by name or inline in braces.
func conditionTests(cond []string, acls map[string][][]string) [][]string {
	var out [][]string
	for i := 0; i < len(cond); i++ {
		w := cond[i]
		switch w {
		case "if", "unless", "or", "||", "!":
			continue
		case "{":
			j := i + 1
			for j < len(cond) && cond[j] != "}" {
				j++
			}
			if j > i+1 {
				out = append(out, cond[i+1:j])
			}
			i = j
			continue
		}
		out = append(out, acls[strings.TrimPrefix(w, "!")]...)
	}
	return out
}

var (
	balanceHdr   = regexp.MustCompile(`^hdr\(([^)]+)\)$`)
	stickCookie  = regexp.MustCompile(`^(req\.cook|cook|cookie)\(([^)]+)\)$`)
	stickHeader  = regexp.MustCompile(`^(req\.hdr|hdr|req\.fhdr)\(([^),]+)(,[^)]*)?\)$`)
	stickURLParm = regexp.MustCompile(`^(url_param|urlp)\(([^),]+)(,[^)]*)?\)$`)
)

// sampleKey sets a's mode and key from a sample expression that stick
// rules or `balance hash` key on (src, req.cook(X), req.hdr(X),
// url_param(X)); it reports false for anything else.
func sampleKey(expr string, a *rewrite.Affinity) bool {
	switch {
	case expr == "src":
		a.Mode = topology.AffinitySource
	case stickCookie.MatchString(expr):
		// A cookie HAProxy reads but does not set comes from the application.
		a.Mode, a.Key = topology.AffinityCookie, stickCookie.FindStringSubmatch(expr)[2]
		a.ClientCookie = true
	case stickHeader.MatchString(expr):
		a.Mode, a.Key = topology.AffinityHeader, stickHeader.FindStringSubmatch(expr)[2]
	case stickURLParm.MatchString(expr):
		a.Mode, a.Key = topology.AffinityQuery, stickURLParm.FindStringSubmatch(expr)[2]
	default:
		return false
	}
	return true
}

// haproxyAffinity reads the affinity of backend be: a persistence cookie
// wins (it overrides balancing), then stick rules, then the balance hash.
func haproxyAffinity(be *hsection, notes []string) (rewrite.Affinity, []string) {
	var a rewrite.Affinity
	if l, ok := be.lookup("hash-type"); ok && len(l.parts) > 1 && l.parts[1] == "consistent" {
		a.Consistent = true
	}
	if l, ok := be.lookup("cookie"); ok && len(l.parts) > 1 {
		a.Mode, a.Key = topology.AffinityCookie, strings.Trim(l.parts[1], `"'`)
		a.Consistent = false
		notes = append(notes, fmt.Sprintf("affinity: cookie %s (line %d)", a.Key, l.num))
		if !hasWord(l.parts, "insert") {
			notes = append(notes, fmt.Sprintf("cookie %s: rewrite/prefix mode becomes insert (echo backends set no cookie of their own for HAProxy to tag)", a.Key))
		}
		return a, notes
	}
	for _, l := range be.body {
		if (l.kw() != "stick" && l.kw() != "stick-table") || len(l.parts) < 3 || l.kw() == "stick-table" {
			continue
		}
		if l.parts[1] != "on" && l.parts[1] != "match" {
			continue
		}
		if !sampleKey(l.parts[2], &a) {
			continue
		}
		// A stick table keeps the first server chosen: no hash remapping.
		a.Consistent = false
		notes = append(notes, fmt.Sprintf("affinity: %s %s from stick rule (line %d)", a.Mode, a.Key, l.num))
		return a, notes
	}
	algo := "roundrobin"
	line := 0
	if l, ok := be.lookup("balance"); ok && len(l.parts) > 1 {
		algo, line = l.parts[1], l.num
	}
	switch {
	case algo == "source":
		a.Mode = topology.AffinitySource
	case balanceHdr.MatchString(algo):
		a.Mode, a.Key = topology.AffinityHeader, balanceHdr.FindStringSubmatch(algo)[1]
	case algo == "url_param":
		l, _ := be.lookup("balance")
		if len(l.parts) > 2 {
			a.Mode, a.Key = topology.AffinityQuery, l.parts[2]
		}
	case algo == "hash":
		// balance hash <sample expression> (HAProxy 2.6+).
		if l, _ := be.lookup("balance"); len(l.parts) > 2 {
			sampleKey(l.parts[2], &a)
		}
	}
	if a.Mode == "" {
		a.Mode = topology.AffinityNone
		a.Consistent = false
		notes = append(notes, fmt.Sprintf("affinity: none (balance %s)", algo))
		return a, notes
	}
	where := ""
	if line > 0 {
		where = fmt.Sprintf(" (line %d)", line)
	}
	notes = append(notes, fmt.Sprintf("affinity: %s %s from balance %s%s", a.Mode, a.Key, algo, where))
	return a, notes
}

// Options kept on rewritten lines; everything else (TLS, PROXY protocol,
// DNS resolution, source addresses, agents, namespaces) is dropped.
var (
	keepServerOption = map[string]bool{
		"backup": true, "check": true, "disabled": true, "enabled": true, "non-stick": true,
		"no-backup": true, "no-check": true, "cookie": true, "error-limit": true, "fall": true,
		"id": true, "inter": true, "fastinter": true, "downinter": true, "maxconn": true,
		"maxqueue": true, "minconn": true, "observe": true, "on-error": true, "on-marked-down": true,
		"on-marked-up": true, "rise": true, "slowstart": true, "track": true, "weight": true,
		"pool-max-conn": true, "pool-purge-delay": true, "max-reuse": true, "tcp-ut": true,
	}
	// Global keywords that need privileges, daemonize, or name machine paths.
	dropGlobal = map[string]string{
		"daemon": "", "user": "", "group": "", "uid": "", "gid": "", "chroot": "", "nbproc": "",
		"pidfile": "", "log": "", "cpu-map": "", "unix-bind": "", "server-state-file": "",
		"server-state-base": "", "localpeer": "", "log-send-hostname": "", "ssl-engine": "",
		"master-worker": "", "stats": "", "ssl-server-verify": "",
	}
)

func serverOptionName(o params.ServerOption) string {
	switch o := o.(type) {
	case *params.ServerOptionWord:
		return o.Name
	case *params.ServerOptionValue:
		return o.Name
	case *params.ServerOptionDoubleWord:
		return o.Name
	case *params.ServerOptionIDValue:
		return o.Name
	}
	return ""
}

// filterServerOptions keeps the words of the server options verify keeps.
func filterServerOptions(opts []string) []string {
	var kept []string
	for _, o := range params.ParseServerOptions(opts) {
		if !keepServerOption[serverOptionName(o)] {
			continue
		}
		switch o := o.(type) {
		case *params.ServerOptionWord:
			kept = append(kept, o.Name)
		case *params.ServerOptionValue:
			kept = append(kept, o.Name, o.Value)
		}
	}
	return kept
}

func filterBindOptions(opts []string) []string {
	var kept []string
	for i := 0; i < len(opts); i++ {
		switch opts[i] {
		case "defer-accept", "tfo":
			kept = append(kept, opts[i])
		case "name", "maxconn", "backlog", "id", "nice":
			if i+1 < len(opts) {
				kept = append(kept, opts[i], opts[i+1])
				i++
			}
		}
	}
	return kept
}

// joinLine writes words as an HAProxy line, each quoted as needed.
func joinLine(indent string, words ...string) string {
	return indent + JoinWords(words)
}

func (h *haproxyConfig) render(c *rewrite.Config, l rewrite.Local) (*rewrite.Result, error) {
	var listeners []*hsection
	for _, s := range h.sections {
		if (s.kind == "frontend" || s.kind == "listen") && len(s.lines("bind")) > 0 {
			listeners = append(listeners, s)
		}
	}
	addrs, err := l.ListenAddrs(len(listeners))
	if err != nil {
		return nil, err
	}
	res := c.NewResult(Descriptor.Name, Descriptor.ConfigName)
	portOf := map[*hsection]string{}
	for i, s := range listeners {
		addr := addrs[i].String()
		portOf[s] = addr
		res.Listeners[s.name] = addr
	}
	res.Listen = portOf[h.wsFrontend]
	idOf := map[int]string{} // server line → echo id
	for _, s := range c.Servers {
		idOf[s.Line] = s.ID
		if s.WebSocket {
			res.HeaderIDs[s.Name] = s.ID
		}
	}
	// HAProxy limits socket paths to 97 bytes; the stats socket is a
	// convenience, so a long scratch path goes without.
	statsSocket := ""
	if p := filepath.Join(l.Dir, "haproxy-stats.sock"); len(p) <= 97 {
		statsSocket = "    stats socket " + p + " mode 600 level admin"
	}
	dropped := map[string]int{}
	drop := func(what string) { dropped[what]++ }

	var out strings.Builder
	// cur is the original line being rewritten; added lines map to 0.
	cur := 0
	emit := func(s string) {
		out.WriteString(s)
		out.WriteByte('\n')
		res.Sources = append(res.Sources, rewrite.SourceLine{File: h.file, Line: cur})
	}
	sawGlobal := false
	for _, s := range h.sections {
		if s.kind != "" {
			if reason, ok := haproxyDropSections[s.kind]; ok {
				drop(reason)
				continue
			}
			cur = s.header.num
			emit(JoinWords(s.header.parts))
		}
		cur = 0
		if s.kind == "global" {
			sawGlobal = true
			if statsSocket != "" {
				emit(statsSocket)
			}
		}
		if (s.kind == "backend" || s.kind == "listen") && len(s.lines("server")) > 0 {
			if m, ok := s.lookup("mode"); ok && len(m.parts) > 1 && m.parts[1] == "tcp" {
				res.Notes = append(res.Notes, fmt.Sprintf("%s %s is in TCP mode: only the echo reply tells which server answered", s.kind, s.name))
			} else {
				emit("    http-response set-header " + rewrite.ServerHeader + " %[srv_name]")
			}
			if l.FastChecks && !hasCheckTimeout(s) && !hasCheckTimeout(s.defaults) {
				// Without it a check may take no longer than inter.
				emit("    timeout check " + fastTimeoutMs)
			}
		}
		bound := false
		for _, ln := range s.body {
			cur = ln.num
			indent := ln.raw[:len(ln.raw)-len(strings.TrimLeft(ln.raw, " \t"))]
			kw := ln.kw()
			// Lines are written back from the words checked, quoted so
			// HAProxy reads exactly those words: nothing the check did not
			// see (an escape, a variable) can turn into something else.
			words := indent + JoinWords(ln.parts)
			if kw == "" {
				emit("")
				continue
			}
			if s.kind == "global" {
				if droppedGlobal(kw) {
					drop("global `" + kw + "`")
					continue
				}
				if (kw == "lua-load" || kw == "lua-load-per-thread") && len(ln.parts) > 1 {
					if !rewrite.FileExists(h.absPath(ln.parts[1])) {
						return nil, &rewrite.Error{File: h.file, Line: ln.num, Msg: fmt.Sprintf("%s: %s does not exist here", kw, ln.parts[1])}
					}
					emit(joinLine(indent, append([]string{kw, h.absPath(ln.parts[1])}, ln.parts[2:]...)...))
					continue
				}
				emit(words)
				continue
			}
			switch kw {
			case "bind":
				if hasWord(ln.parts, "ssl") {
					res.Notes = appendOnce(res.Notes, fmt.Sprintf("%s %s: TLS removed, clients speak plain HTTP/WebSocket", s.kind, s.name))
				}
				if bound {
					drop("extra `bind` lines (one local port per frontend)")
					continue
				}
				bound = true
				emit(joinLine(indent, append([]string{"bind", portOf[s]}, filterBindOptions(ln.parts[min(2, len(ln.parts)):])...)...))
			case "server":
				id, ok := idOf[ln.num]
				if !ok {
					return nil, &rewrite.Error{File: h.file, Line: ln.num, Msg: "`server` outside a backend or listen section"}
				}
				opts := filterServerOptions(ln.parts[3:])
				if l.FastChecks {
					opts = fastServerOptions(opts)
				}
				emit(joinLine(indent, append([]string{"server", ln.parts[1], l.Backends[id]}, opts...)...))
			case "default-server":
				opts := filterServerOptions(ln.parts[1:])
				if l.FastChecks {
					opts = fastServerOptions(opts)
				}
				emit(joinLine(indent, append([]string{"default-server"}, opts...)...))
			case "timeout":
				if l.FastChecks && len(ln.parts) > 2 && ln.parts[1] == "check" {
					emit(joinLine(indent, "timeout", "check", fastCheckTimeout(ln.parts[2])))
					continue
				}
				emit(words)
			case "log":
				if len(ln.parts) > 1 && ln.parts[1] == "global" {
					emit(words)
				} else {
					drop("`log` targets")
				}
			case "errorfile":
				if len(ln.parts) > 2 && !rewrite.FileExists(h.absPath(ln.parts[2])) {
					drop("`errorfile` lines whose file does not exist here")
					continue
				}
				if len(ln.parts) > 2 {
					emit(joinLine(indent, append(ln.parts[:2:2], h.absPath(ln.parts[2]))...))
					continue
				}
				emit(words)
			case "redirect", "http-request":
				if hasWord(ln.parts, "redirect") && hasWord(ln.parts, "scheme") && hasWord(ln.parts, "https") {
					drop("redirects to https (TLS is removed)")
					continue
				}
				emit(words)
			case "http-check", "tcp-check":
				if kw == "http-check" && len(ln.parts) > 1 && ln.parts[1] == "expect" {
					drop("`http-check expect` (echo backends answer every check with 200)")
					continue
				}
				if len(ln.parts) > 1 && ln.parts[1] == "connect" && (hasWord(ln.parts, "addr") || hasWord(ln.parts, "port")) {
					// Checks go to the server's own (echo backend) address,
					// never to the machine the user's config names.
					drop("`addr` and `port` of `" + kw + " connect` rules")
					emit(joinLine(indent, withoutOption(withoutOption(ln.parts, "addr"), "port")...))
					continue
				}
				emit(words)
			case "option":
				if len(ln.parts) > 1 && (ln.parts[1] == "ssl-hello-chk" || ln.parts[1] == "transparent") {
					drop("`option " + ln.parts[1] + "`")
					continue
				}
				emit(words)
			case "source", "email-alert", "dispatch", "server-template", "load-server-state-from-file", "server-state-file-name":
				drop("`" + kw + "` lines")
			case "cookie":
				// Rewrite and prefix modes tag a cookie the application
				// sets; echo backends set none, so HAProxy inserts it.
				if len(ln.parts) > 1 && !hasWord(ln.parts, "insert") && s.kind != "frontend" {
					cookie := []string{"cookie", ln.parts[1], "insert"}
					for _, w := range ln.parts[2:] {
						if w != "rewrite" && w != "prefix" {
							cookie = append(cookie, w)
						}
					}
					emit(joinLine(indent, cookie...))
					continue
				}
				emit(words)
			case "stick-table":
				emit(joinLine(indent, withoutOption(ln.parts, "peers")...))
			default:
				emit(words)
			}
		}
	}
	if !sawGlobal && statsSocket != "" {
		text := "global\n" + statsSocket + "\n" + out.String()
		out.Reset()
		out.WriteString(text)
		res.Sources = append([]rewrite.SourceLine{{}, {}}, res.Sources...)
	}
	for _, what := range rewrite.SortedKeys(dropped) {
		res.Notes = append(res.Notes, "dropped "+what)
	}
	if l.FastChecks {
		res.Notes = append(res.Notes, fmt.Sprintf("health checks: inter, fastinter and downinter set to %s, timeout check at least %s (rise and fall as written)", fastMs, fastTimeoutMs))
	}
	res.Config = []byte(out.String())
	return res, nil
}

// withoutOption removes "name VALUE" from words.
func withoutOption(words []string, name string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		if words[i] == name && i+1 < len(words) {
			i++
			continue
		}
		out = append(out, words[i])
	}
	return out
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

var originFetch = regexp.MustCompile(`(?i)^(req\.)?f?hdr(_beg|_str|_dom)?\(origin\)$`)

// haproxyAllowedOrigin finds an Origin allowlist (acl NAME [req.f]hdr(Origin)
// -i https://site ...) and returns its first site.
func haproxyAllowedOrigin(sections []*hsection) (string, hline) {
	for _, s := range sections {
		if s.kind != "frontend" && s.kind != "listen" {
			continue
		}
		for _, l := range s.lines("acl") {
			if len(l.parts) < 4 || !originFetch.MatchString(l.parts[2]) {
				continue
			}
			for _, v := range l.parts[3:] {
				if rewrite.OriginValue.MatchString(v) {
					return v, l
				}
			}
		}
	}
	return "", hline{}
}
