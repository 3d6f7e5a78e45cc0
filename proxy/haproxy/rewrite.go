package haproxy

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/haproxytech/config-parser/v5/params"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

// Sections that reach other machines or run programs; they are removed.
var haproxyDropSections = map[string]string{
	"peers":       "peers sections (they connect to other machines)",
	"resolvers":   "resolvers sections (DNS is not needed for local servers)",
	"mailers":     "mailers sections (no mail is sent)",
	"program":     "program sections (no external programs are started)",
	"ring":        "ring sections (logs go to the proxy's output)",
	"log-forward": "log-forward sections",
}

// checkReadable refuses what the index read but HAProxy could not, or
// verify could not place: a line HAProxy cannot split into words, an
// unbalanced conditional block, and a section keyword inside one (verify
// could not tell where the lines below it belong; every branch of a
// block is indexed and checked). The first in file order is the error.
func checkReadable(file string, c *Config) error {
	syntax := map[int]Problem{}
	for _, p := range c.Problems {
		if _, seen := syntax[p.Line]; p.Syntax && !seen {
			syntax[p.Line] = p
		}
	}
	conds := map[int]*Directive{}
	for _, d := range c.Conditionals {
		conds[d.Line] = d
	}
	sections := map[int]*Section{}
	for _, s := range c.Sections {
		sections[s.Line] = s
	}
	var open []int // lines of the .if blocks open
	for n := 1; n <= len(c.Lines); n++ {
		if p, ok := syntax[n]; ok {
			return &rewrite.Error{File: file, Line: n, Msg: fmt.Sprintf("HAProxy cannot read this line: column %d: %s", p.Column, p.Message)}
		}
		if d := conds[n]; d != nil {
			switch d.Keyword {
			case ".if":
				open = append(open, n)
			case ".endif":
				if len(open) == 0 {
					return &rewrite.Error{File: file, Line: n, Msg: ".endif without .if"}
				}
				open = open[:len(open)-1]
			case ".elif", ".else":
				if len(open) == 0 {
					return &rewrite.Error{File: file, Line: n, Msg: d.Keyword + " without .if"}
				}
			}
		}
		if s := sections[n]; s != nil && len(open) > 0 {
			return &rewrite.Error{File: file, Line: n, Msg: fmt.Sprintf("section %q inside the .if block of line %d: verify cannot tell which section the lines below belong to; move the section out of the block", s.Type, open[len(open)-1])}
		}
	}
	if len(open) > 0 {
		return &rewrite.Error{File: file, Line: open[len(open)-1], Msg: ".if without .endif"}
	}
	return nil
}

type haproxyConfig struct {
	file string
	// dir is the config's directory, from which relative file names are
	// read; reader says which files the proxy may read.
	dir    string
	reader *safefile.Reader
	// cfg is the config as the package indexes it for validate too.
	cfg *Config
	// trailingNewline: the text ended in a line break (or was empty),
	// which the render keeps as a last empty line.
	trailingNewline bool
	// allowCode lets lines that run code through (--allow-code).
	allowCode bool
	// wsFrontend is the frontend or listen section that routes to the
	// WebSocket pool.
	wsFrontend *Section
}

func loadHAProxy(path string, text []byte, r *safefile.Reader, allowCode bool) (*rewrite.Config, error) {
	cfg := Index(path, text)
	if err := checkReadable(path, cfg); err != nil {
		return nil, err
	}
	h := &haproxyConfig{file: path, dir: rewrite.ConfigDir(path), reader: r, cfg: cfg, allowCode: allowCode,
		trailingNewline: len(text) == 0 || text[len(text)-1] == '\n'}
	if len(cfg.Outside) > 0 {
		return nil, &rewrite.Error{File: path, Line: cfg.Outside[0].Line, Msg: fmt.Sprintf("%q is outside any section", cfg.Outside[0].Keyword)}
	}
	for _, s := range cfg.Sections {
		if why, ok := RunsCode(s.Type, s.Type, nil); ok && !h.allowCode {
			return nil, rewrite.CodeError(path, s.Line, s.Type, why)
		}
		if _, dropped := haproxyDropSections[s.Type]; dropped {
			continue
		}
		for _, d := range s.Directives {
			if err := h.checkHAProxyLine(s.Type, d); err != nil {
				return nil, err
			}
		}
	}
	c := &rewrite.Config{Kind: proxybin.HAProxy, File: path, Path: "/"}

	var frontends []*Section
	backends := map[string]*Section{}
	for _, s := range cfg.Sections {
		switch s.Type {
		case "frontend", "listen":
			if len(s.Own("bind")) > 0 {
				frontends = append(frontends, s)
			}
		}
		if s.Type == "backend" || s.Type == "listen" {
			backends[s.Name] = s
			for _, l := range s.Directives {
				switch l.Keyword {
				case "server-template":
					return nil, &rewrite.Error{File: path, Line: l.Line, Msg: "server-template is not supported: list the servers with `server NAME ADDRESS` lines"}
				case "server":
					srv, err := parseHAProxyServer(path, s.Name, l)
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

	fe, be, why, path2 := h.findWebSocketRoute(frontends, backends, DetectWebSockets(cfg, false))
	if be == nil {
		return nil, &rewrite.Error{File: path, Line: fe.Line, Msg: fmt.Sprintf("%s %s routes to no backend with servers: add a default_backend", fe.Type, fe.Name)}
	}
	h.wsFrontend = fe
	c.Pool = be.Name
	c.Route = rewrite.SourceLine{File: path, Line: be.Line}
	if path2 != "" {
		c.Path = path2
	}
	c.Notes = append(c.Notes, fmt.Sprintf("WebSocket route: %s %s → %s %s (%s)", fe.Type, fe.Name, be.Type, be.Name, why))
	for i := range c.Servers {
		c.Servers[i].WebSocket = c.Servers[i].Pool == be.Name
	}
	rewrite.AssignIDs(c.Servers)
	var err error
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
	if o, l := haproxyAllowedOrigin(cfg.Sections); o != "" {
		c.AllowedOrigin = o
		c.Notes = append(c.Notes, fmt.Sprintf("handshakes send Origin %s, which the acl at %s:%d allows", o, path, l.Line))
	}
	return c, nil
}

func serverHasCookie(be *Section, line int) bool {
	for _, l := range be.Servers() {
		if l.Line == line && len(l.Args) >= 2 {
			for _, o := range params.ParseServerOptions(l.Args[2:]) {
				if v, ok := o.(*params.ServerOptionValue); ok && v.Name == "cookie" {
					return true
				}
			}
		}
	}
	return false
}

func parseHAProxyServer(path, pool string, l *Directive) (rewrite.Server, error) {
	if len(l.Args) < 2 {
		return rewrite.Server{}, &rewrite.Error{File: path, Line: l.Line, Msg: "server line needs a name and an address: `server NAME ADDRESS [options]`"}
	}
	s := rewrite.Server{Name: l.Args[0], Pool: pool, Addr: l.Args[1], Weight: 1, File: path, Line: l.Line}
	for _, o := range params.ParseServerOptions(l.Args[2:]) {
		switch o := o.(type) {
		case *params.ServerOptionWord:
			if o.Name == "backup" {
				s.Backup = true
			}
		case *params.ServerOptionValue:
			if o.Name == "weight" {
				w, err := strconv.Atoi(o.Value)
				if err != nil || w < 0 || w > 256 {
					return rewrite.Server{}, &rewrite.Error{File: path, Line: l.Line, Msg: fmt.Sprintf("server %s: weight %q is not a number from 0 to 256", s.Name, o.Value)}
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

// findWebSocketRoute picks the frontend and backend that serve WebSockets.
// The pools are the detector's (ws, what validate's rules read) when it
// finds any that a frontend routes to; among them, and among all routes
// when it finds none, a use_backend whose condition tests the Upgrade or
// Connection header wins, then one whose ACLs test a WebSocket-looking
// path, then a backend named like one, then the first frontend's default
// backend.
func (h *haproxyConfig) findWebSocketRoute(frontends []*Section, backends map[string]*Section, ws *WebSockets) (fe, be *Section, why, path string) {
	type candidate struct {
		fe, be *Section
		score  int
		why    string
		path   string
	}
	var best, bestDetected *candidate
	consider := func(c candidate) {
		if c.be == nil || len(c.be.Servers()) == 0 {
			return
		}
		if best == nil || c.score > best.score {
			best = &c
		}
		if ws.Serves(c.be) && (bestDetected == nil || c.score > bestDetected.score) {
			bestDetected = &c
		}
	}
	for _, f := range frontends {
		if f.Type == "listen" {
			consider(candidate{fe: f, be: f, score: 1, why: "listen section"})
		}
		acls := map[string][][]string{} // name → criterion and values of each acl line
		for _, l := range f.Own("acl") {
			if len(l.Args) >= 2 {
				acls[l.Args[0]] = append(acls[l.Args[0]], l.Args[1:])
			}
		}
		for _, l := range f.Own("use_backend") {
			if len(l.Args) < 1 {
				continue
			}
			b := backends[l.Args[0]]
			score, why, path := 2, "use_backend", ""
			for _, tests := range conditionTests(l.Args[1:], acls) {
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
			if score < 8 && rewrite.WebSocketName.MatchString(l.Args[0]) {
				score, why = 6, "backend named for WebSockets"
			}
			if score < 8 {
				path = ""
			}
			consider(candidate{fe: f, be: b, score: score, why: why, path: path})
		}
		if l := f.Lookup("default_backend"); l != nil && len(l.Args) > 0 {
			b := backends[l.Args[0]]
			score, why := 3, "default_backend"
			if b != nil && rewrite.WebSocketName.MatchString(b.Name) {
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
func haproxyAffinity(be *Section, notes []string) (rewrite.Affinity, []string) {
	var a rewrite.Affinity
	if l := be.Lookup("hash-type"); l != nil && l.Arg(0) == "consistent" {
		a.Consistent = true
	}
	if l := be.Lookup("cookie"); l != nil && len(l.Args) > 0 {
		a.Mode, a.Key = topology.AffinityCookie, strings.Trim(l.Args[0], `"'`)
		a.Consistent = false
		notes = append(notes, fmt.Sprintf("affinity: cookie %s (line %d)", a.Key, l.Line))
		if !hasWord(l.Args, "insert") {
			notes = append(notes, fmt.Sprintf("cookie %s: rewrite/prefix mode becomes insert (echo backends set no cookie of their own for HAProxy to tag)", a.Key))
		}
		return a, notes
	}
	for _, l := range be.Own("stick") {
		if len(l.Args) < 2 || l.Args[0] != "on" && l.Args[0] != "match" {
			continue
		}
		if !sampleKey(l.Args[1], &a) {
			continue
		}
		// A stick table keeps the first server chosen: no hash remapping.
		a.Consistent = false
		notes = append(notes, fmt.Sprintf("affinity: %s %s from stick rule (line %d)", a.Mode, a.Key, l.Line))
		return a, notes
	}
	algo := "roundrobin"
	line := 0
	balance := be.Lookup("balance")
	if balance != nil && len(balance.Args) > 0 {
		algo, line = balance.Args[0], balance.Line
	}
	switch {
	case algo == "source":
		a.Mode = topology.AffinitySource
	case balanceHdr.MatchString(algo):
		a.Mode, a.Key = topology.AffinityHeader, balanceHdr.FindStringSubmatch(algo)[1]
	case algo == "url_param":
		if len(balance.Args) > 1 {
			a.Mode, a.Key = topology.AffinityQuery, balance.Args[1]
		}
	case algo == "hash":
		// balance hash <sample expression> (HAProxy 2.6+).
		if len(balance.Args) > 1 {
			sampleKey(balance.Args[1], &a)
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
	var listeners []*Section
	for _, s := range h.cfg.Sections {
		if s.HasFrontend() && len(s.Own("bind")) > 0 {
			listeners = append(listeners, s)
		}
	}
	addrs, err := l.ListenAddrs(len(listeners))
	if err != nil {
		return nil, err
	}
	res := c.NewResult(Descriptor.Name, Descriptor.ConfigName)
	portOf := map[*Section]string{}
	for i, s := range listeners {
		addr := addrs[i].String()
		portOf[s] = addr
		res.Listeners[s.Name] = addr
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
	for _, part := range h.parts() {
		s := part.section
		if s == nil {
			// The lines before the first section: blanks, comments and
			// conditionals (anything else was refused).
			s = &Section{}
		} else {
			if reason, ok := haproxyDropSections[s.Type]; ok {
				drop(reason)
				continue
			}
			cur = s.Line
			emit(JoinWords(s.Header))
		}
		cur = 0
		if s.Type == "global" {
			sawGlobal = true
			if statsSocket != "" {
				emit(statsSocket)
			}
		}
		if s.HasBackend() && len(s.Servers()) > 0 {
			if m := s.Lookup("mode"); m != nil && m.Arg(0) == "tcp" {
				res.Notes = append(res.Notes, fmt.Sprintf("%s %s is in TCP mode: only the echo reply tells which server answered", s.Type, s.Name))
			} else {
				emit("    http-response set-header " + rewrite.ServerHeader + " %[srv_name]")
			}
			if l.FastChecks && !hasCheckTimeout(s) && !hasCheckTimeout(s.Defaults) {
				// Without it a check may take no longer than inter.
				emit("    timeout check " + fastTimeoutMs)
			}
		}
		bound := false
		for _, ln := range part.lines {
			cur = ln.num
			if ln.d == nil {
				emit("") // blank, or a comment
				continue
			}
			raw := ln.d.Raw
			indent := raw[:len(raw)-len(strings.TrimLeft(raw, " \t"))]
			kw := ln.d.Keyword
			parts := ln.d.Words()
			// Lines are written back from the words checked, quoted so
			// HAProxy reads exactly those words: nothing the check did not
			// see (an escape, a variable) can turn into something else.
			words := indent + JoinWords(parts)
			if s.Type == "global" {
				if droppedGlobal(kw) {
					drop("global `" + kw + "`")
					continue
				}
				if (kw == "lua-load" || kw == "lua-load-per-thread") && len(parts) > 1 {
					if !rewrite.FileExists(h.absPath(parts[1])) {
						return nil, &rewrite.Error{File: h.file, Line: ln.num, Msg: fmt.Sprintf("%s: %s does not exist here", kw, parts[1])}
					}
					emit(joinLine(indent, append([]string{kw, h.absPath(parts[1])}, parts[2:]...)...))
					continue
				}
				emit(words)
				continue
			}
			switch kw {
			case "bind":
				if hasWord(parts, "ssl") {
					res.Notes = appendOnce(res.Notes, fmt.Sprintf("%s %s: TLS removed, clients speak plain HTTP/WebSocket", s.Type, s.Name))
				}
				if bound {
					drop("extra `bind` lines (one local port per frontend)")
					continue
				}
				bound = true
				emit(joinLine(indent, append([]string{"bind", portOf[s]}, filterBindOptions(parts[min(2, len(parts)):])...)...))
			case "server":
				id, ok := idOf[ln.num]
				if !ok {
					return nil, &rewrite.Error{File: h.file, Line: ln.num, Msg: "`server` outside a backend or listen section"}
				}
				opts := filterServerOptions(parts[3:])
				if l.FastChecks {
					opts = fastServerOptions(opts)
				}
				emit(joinLine(indent, append([]string{"server", parts[1], l.Backends[id]}, opts...)...))
			case "default-server":
				opts := filterServerOptions(parts[1:])
				if l.FastChecks {
					opts = fastServerOptions(opts)
				}
				emit(joinLine(indent, append([]string{"default-server"}, opts...)...))
			case "timeout":
				if l.FastChecks && len(parts) > 2 && parts[1] == "check" {
					emit(joinLine(indent, "timeout", "check", fastCheckTimeout(parts[2])))
					continue
				}
				emit(words)
			case "log":
				if len(parts) > 1 && parts[1] == "global" {
					emit(words)
				} else {
					drop("`log` targets")
				}
			case "errorfile":
				if len(parts) > 2 && !rewrite.FileExists(h.absPath(parts[2])) {
					drop("`errorfile` lines whose file does not exist here")
					continue
				}
				if len(parts) > 2 {
					emit(joinLine(indent, append(parts[:2:2], h.absPath(parts[2]))...))
					continue
				}
				emit(words)
			case "redirect", "http-request":
				if hasWord(parts, "redirect") && hasWord(parts, "scheme") && hasWord(parts, "https") {
					drop("redirects to https (TLS is removed)")
					continue
				}
				emit(words)
			case "http-check", "tcp-check":
				if kw == "http-check" && len(parts) > 1 && parts[1] == "expect" {
					drop("`http-check expect` (echo backends answer every check with 200)")
					continue
				}
				if len(parts) > 1 && parts[1] == "connect" && (hasWord(parts, "addr") || hasWord(parts, "port")) {
					// Checks go to the server's own (echo backend) address,
					// never to the machine the user's config names.
					drop("`addr` and `port` of `" + kw + " connect` rules")
					emit(joinLine(indent, withoutOption(withoutOption(parts, "addr"), "port")...))
					continue
				}
				emit(words)
			case "option":
				if len(parts) > 1 && (parts[1] == "ssl-hello-chk" || parts[1] == "transparent") {
					drop("`option " + parts[1] + "`")
					continue
				}
				emit(words)
			case "source", "email-alert", "dispatch", "server-template", "load-server-state-from-file", "server-state-file-name":
				drop("`" + kw + "` lines")
			case "cookie":
				// Rewrite and prefix modes tag a cookie the application
				// sets; echo backends set none, so HAProxy inserts it.
				if len(parts) > 1 && !hasWord(parts, "insert") && s.Type != "frontend" {
					cookie := []string{"cookie", parts[1], "insert"}
					for _, w := range parts[2:] {
						if w != "rewrite" && w != "prefix" {
							cookie = append(cookie, w)
						}
					}
					emit(joinLine(indent, cookie...))
					continue
				}
				emit(words)
			case "stick-table":
				emit(joinLine(indent, withoutOption(parts, "peers")...))
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

// part is the lines before the first section (section nil) or a section's
// lines after its header, up to the next section.
type part struct {
	section *Section
	lines   []bodyLine
}

// bodyLine is one of them: its directive or conditional, nil for a blank
// or comment line.
type bodyLine struct {
	num int
	d   *Directive
}

// parts splits the indexed config into the parts the render writes, in
// file order; every line of the file is in one.
func (h *haproxyConfig) parts() []part {
	at := map[int]*Directive{}
	for _, s := range h.cfg.Sections {
		for _, d := range s.Directives {
			at[d.Line] = d
		}
	}
	for _, d := range h.cfg.Conditionals {
		at[d.Line] = d
	}
	n := len(h.cfg.Lines)
	if h.trailingNewline {
		n++ // the empty line after the last line break
	}
	out := []part{{}}
	for line := 1; line <= n; line++ {
		if k := len(out) - 1; k < len(h.cfg.Sections) && h.cfg.Sections[k].Line == line {
			out = append(out, part{section: h.cfg.Sections[k]})
			continue
		}
		out[len(out)-1].lines = append(out[len(out)-1].lines, bodyLine{num: line, d: at[line]})
	}
	return out
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
func haproxyAllowedOrigin(sections []*Section) (string, *Directive) {
	for _, s := range sections {
		if !s.HasFrontend() {
			continue
		}
		for _, l := range s.Own("acl") {
			if len(l.Args) < 3 || !originFetch.MatchString(l.Args[1]) {
				continue
			}
			for _, v := range l.Args[2:] {
				if rewrite.OriginValue.MatchString(v) {
					return v, l
				}
			}
		}
	}
	return "", nil
}
