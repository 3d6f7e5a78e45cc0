package nginx

import (
	"fmt"
	"github.com/wslb/wslb/proxy/rewrite"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/topology"
)

// nginxAnalysis is what Load finds in the tree.
type nginxAnalysis struct {
	upstreams map[string]*crossplane.Directive
	// direct maps a proxy_pass host:port that is not an upstream to its
	// server id.
	direct map[string]string
	// slots maps "<upstream>-<n>" (the n-th server line of an upstream,
	// from 1) to the id of its server. A server listed in several
	// upstreams (same address) is one server with one echo backend.
	slots map[string]string
	// wsServer is the server block whose location proxies WebSockets.
	wsServer *crossplane.Directive
}

func loadNginx(path string, text []byte, r *safefile.Reader, allowCode bool) (*rewrite.Config, error) {
	n := &nginxConfig{file: path, dir: rewrite.ConfigDir(path), reader: r, allowCode: allowCode}
	if abs, err := filepath.Abs(path); err == nil {
		n.sources = map[string][]byte{abs: text}
	}
	tree, err := n.parse()
	if err != nil {
		return nil, err
	}
	c := &rewrite.Config{Kind: proxybin.Nginx, File: path, Path: "/"}
	for _, m := range n.config.Missing { // skipped
		c.Notes = append(c.Notes, "include "+m+" does not exist here; skipped")
	}
	a, err := analyseNginx(tree, c, n)
	if err != nil {
		return nil, err
	}
	n.tree, n.analysis = tree, a
	c.SetRender(func(l rewrite.Local) (*rewrite.Result, error) { return n.render(c, l) })
	return c, nil
}

// membership is a server line of one upstream.
type membership struct {
	server int // index in rewrite.Config.Servers
	weight int
	backup bool
}

func analyseNginx(tree crossplane.Directives, c *rewrite.Config, n *nginxConfig) (*nginxAnalysis, error) {
	a := &nginxAnalysis{upstreams: map[string]*crossplane.Directive{}, direct: map[string]string{}, slots: map[string]string{}}
	var firstErr error
	walkDirectives(tree, nil, func(d *crossplane.Directive, parents []*crossplane.Directive) bool {
		switch {
		case d.Directive == "upstream" && len(d.Args) == 1 && inContext(parents, "http"):
			a.upstreams[d.Args[0]] = d
		case firstErr != nil:
		default:
			firstErr = n.checkDirective(d)
			if firstErr == nil && d.Directive == "load_module" && len(d.Args) > 0 && !rewrite.FileExists(modulePath(d.Args[0])) {
				firstErr = &rewrite.Error{File: d.File, Line: d.Line, Msg: fmt.Sprintf("load_module %s: the module is not installed here; install it or remove the line", d.Args[0])}
			}
		}
		return true
	})
	if firstErr != nil {
		return nil, firstErr
	}
	members, err := a.collectServers(c, n.sources)
	if err != nil {
		return nil, err
	}
	vars := collectVars(tree)
	detected := n.detectedLocations()

	// best is the route the scores pick; bestDetected the one they pick
	// among the routes the detector says serve WebSockets whose handshake
	// nginx forwards (a location whose own proxy_set_header lines drop
	// the Upgrade header is meant for WebSockets, but breaks them).
	var best, bestDetected *nginxRoute
	var listens int
	walkDirectives(tree, nil, func(d *crossplane.Directive, parents []*crossplane.Directive) bool {
		if d.Directive == "server" && d.IsBlock() && inContext(parents, "http") {
			listens++
		}
		if firstErr != nil || d.Directive != "proxy_pass" || len(d.Args) == 0 || !inContext(parents, "http") {
			return true
		}
		routes, err := a.routes(d, vars, c)
		if err != nil {
			firstErr = err
			return false
		}
		for _, r := range routes {
			if !r.locate(parents, vars) {
				continue
			}
			if best == nil || r.score > best.score {
				best = r
			}
			if r.forwards && detected[sourceLine{r.loc.File, r.loc.Line}] && (bestDetected == nil || r.score > bestDetected.score) {
				bestDetected = r
			}
		}
		return true
	})
	if bestDetected != nil {
		best = bestDetected
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if listens == 0 {
		return nil, &rewrite.Error{File: c.File, Msg: "no server block in the http context: nothing accepts client connections"}
	}
	if best == nil || len(c.Servers) == 0 {
		return nil, &rewrite.Error{File: c.File, Msg: "no location with proxy_pass to an upstream or address: nothing to send clients to"}
	}
	a.wsServer = best.srv
	c.Pool = best.entry
	c.Route = rewrite.SourceLine{File: best.loc.File, Line: best.loc.Line}
	if up := a.upstreams[best.entry]; up != nil && len(best.group) <= 1 {
		t, err := upstreamTimers(up)
		if err != nil {
			return nil, err
		}
		c.Timers = t
	}
	c.Path = locationPath(best.pathLoc)
	c.Notes = append(c.Notes, fmt.Sprintf("WebSocket route: location %s (%s:%d) → %s (%s)",
		strings.Join(best.pathLoc.Args, " "), best.pathLoc.File, best.pathLoc.Line, strings.Join(best.group, ", "), strings.Join(best.why, "; ")))

	a.markPool(c, best, members, vars)
	if o, d := vars.allowedOrigin(); o != "" {
		c.AllowedOrigin = o
		c.Notes = append(c.Notes, fmt.Sprintf("handshakes send Origin %s, which map %s allows (%s:%d)", o, d.Args[1], d.File, d.Line))
	}
	if best.key != nil && best.setsCookie {
		name := hashCookie.FindStringSubmatch(best.key.Args[0])[1]
		c.Affinity = rewrite.Affinity{Mode: topology.AffinityCookie, Key: name}
		c.Notes = append(c.Notes, fmt.Sprintf("affinity: cookie %s from map %s choosing the upstream (%s:%d); the proxy sets it with add_header Set-Cookie",
			name, best.key.Args[0], best.key.File, best.key.Line))
	} else if up := a.upstreams[best.entry]; up != nil {
		c.Affinity, c.Notes = nginxAffinity(up, c.Notes)
	} else {
		c.Affinity = rewrite.Affinity{Mode: topology.AffinityNone}
		c.Notes = append(c.Notes, "affinity: none (proxy_pass to a single address)")
	}
	return a, nil
}

// sourceLine is a line of one file of the config.
type sourceLine struct {
	file string
	line int
}

// detectedLocations are the blocks holding a proxy_pass that
// DetectWebSockets, the detector validate's rules read, says serve
// WebSockets, in the tree Load built beside the rewrite's.
func (n *nginxConfig) detectedLocations() map[sourceLine]bool {
	if n.config == nil {
		return nil
	}
	out := map[sourceLine]bool{}
	for blk := range DetectWebSockets(n.config, false).Locations {
		out[sourceLine{blk.File, blk.Line}] = true
	}
	return out
}

// collectServers lists the servers of every upstream, one per address,
// and returns each upstream's server lines.
func (a *nginxAnalysis) collectServers(c *rewrite.Config, sources map[string][]byte) (map[string][]membership, error) {
	members := map[string][]membership{}
	byAddr := map[string]int{}
	for _, up := range sortedUpstreams(a.upstreams) {
		n := 0
		for _, d := range up.Block {
			if d.Directive != "server" || len(d.Args) == 0 {
				continue
			}
			n++
			m := membership{weight: 1}
			for _, p := range d.Args[1:] {
				switch {
				case p == "backup":
					m.backup = true
				case strings.HasPrefix(p, "weight="):
					w, err := strconv.Atoi(strings.TrimPrefix(p, "weight="))
					if err != nil || w < 1 {
						return nil, &rewrite.Error{File: d.File, Line: d.Line, Msg: fmt.Sprintf("server %s: %s is not a positive weight", d.Args[0], p)}
					}
					m.weight = w
				}
			}
			slot := fmt.Sprintf("%s-%d", up.Args[0], n)
			i, seen := byAddr[d.Args[0]]
			if !seen {
				i = len(c.Servers)
				byAddr[d.Args[0]] = i
				c.Servers = append(c.Servers, rewrite.Server{Name: slot, Pool: up.Args[0], Addr: d.Args[0], Weight: m.weight, Backup: m.backup, File: d.File, Line: d.Line})
			}
			m.server = i
			members[up.Args[0]] = append(members[up.Args[0]], m)
			a.slots[slot] = "" // filled once ids are final
		}
	}
	nameServers(c.Servers, sources)
	for _, up := range sortedUpstreams(a.upstreams) {
		for n, m := range members[up.Args[0]] {
			a.slots[fmt.Sprintf("%s-%d", up.Args[0], n+1)] = c.Servers[m.server].ID
		}
	}
	return members, nil
}

// commentName is a server's name in a comment, at most maxCommentName
// characters: checked apart, since a counted repetition ({0,63}) compiles
// to 63 copies, about 60 KB at every wslb start.
var commentName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]*$`)

const maxCommentName = 64

// nameServers gives each server its id: the one-word comment closing its
// line ("server 10.0.0.11:8080; # ws1"), which is how people name nginx
// servers, else "<upstream>-<n>". If names would repeat, all servers take
// "<upstream>-<n>".
func nameServers(servers []rewrite.Server, sources map[string][]byte) {
	lines := map[string][]string{}
	names := make([]string, len(servers))
	seen := map[string]bool{}
	unique := true
	for i, s := range servers {
		if _, ok := lines[s.File]; !ok {
			lines[s.File] = nil
			if text, ok := sources[s.File]; ok {
				lines[s.File] = strings.Split(string(text), "\n")
			}
		}
		names[i] = s.Name
		if l := lines[s.File]; s.Line >= 1 && s.Line <= len(l) {
			if c := lineComment(l[s.Line-1]); len(c) <= maxCommentName && commentName.MatchString(c) {
				names[i] = c
			}
		}
		unique = unique && !seen[names[i]]
		seen[names[i]] = true
	}
	for i := range servers {
		if unique {
			servers[i].Name = names[i]
		}
		servers[i].ID = rewrite.SanitizeID(servers[i].Name)
	}
}

// lineComment is the comment after the last directive of a line.
func lineComment(line string) string {
	semi := strings.LastIndex(line, ";")
	if semi < 0 {
		return ""
	}
	rest := strings.TrimSpace(line[semi+1:])
	if !strings.HasPrefix(rest, "#") {
		return ""
	}
	return strings.TrimSpace(rest[1:])
}

// nginxRoute is one way a proxy_pass sends requests to a pool.
type nginxRoute struct {
	pass *crossplane.Directive
	// srv is the server block; pathLoc the location whose path requests
	// take (for a named location: the one that hands requests to it).
	srv, loc, pathLoc *crossplane.Directive
	// entry is the upstream (or direct address) new clients reach; group
	// every upstream one client may be sent to (entry first).
	entry string
	group []string
	// key is the map choosing among group by a client's key.
	key        *crossplane.Directive
	setsCookie bool
	// upgrade: chosen for requests carrying "Upgrade: websocket".
	upgrade, forwards, fallback bool
	score                       int
	why                         []string
}

var hostVar = regexp.MustCompile(`^\$\{?(\w+)\}?(\$.*)?$`)

// routes lists where a proxy_pass sends requests: a fixed upstream or
// address, or the upstreams a variable set by map or set may name.
func (a *nginxAnalysis) routes(d *crossplane.Directive, vars *nginxVars, c *rewrite.Config) ([]*nginxRoute, error) {
	m := proxyPassRe.FindStringSubmatch(d.Args[0])
	if m == nil {
		return nil, &rewrite.Error{File: d.File, Line: d.Line, Msg: fmt.Sprintf("proxy_pass %s: only http(s)://upstream or http(s)://host:port targets can be pointed at local backends", d.Args[0])}
	}
	host := m[2]
	if !strings.Contains(host, "$") {
		if _, ok := a.upstreams[host]; !ok {
			if _, seen := a.direct[host]; !seen {
				a.direct[host] = rewrite.SanitizeID(host)
				c.Servers = append(c.Servers, rewrite.Server{ID: rewrite.SanitizeID(host), Name: host, Pool: host, Addr: host, Weight: 1, File: d.File, Line: d.Line})
			}
		}
		return []*nginxRoute{{pass: d, entry: host, group: []string{host}}}, nil
	}
	refuse := func(why string) error {
		return &rewrite.Error{File: d.File, Line: d.Line, Msg: fmt.Sprintf("proxy_pass %s: %s; variables in proxy_pass must name upstreams of this config through map or set", d.Args[0], why)}
	}
	hv := hostVar.FindStringSubmatch(host)
	if hv == nil {
		return nil, refuse("the host is not a single variable")
	}
	name := "$" + hv[1]
	var choices []mapChoice
	var key *crossplane.Directive
	switch {
	case vars.maps[name] != nil:
		key = vars.maps[name]
		choices = mapChoices(key)
	case len(vars.sets[name]) > 0:
		for _, s := range vars.sets[name] {
			choices = append(choices, mapChoice{value: s.Args[1], isDefault: true, d: s})
		}
	default:
		return nil, refuse(name + " is set by no map or set")
	}
	var values []string
	for _, ch := range choices {
		if ch.value == "" {
			continue // requests that take no upstream fail; nothing to verify there
		}
		if _, ok := a.upstreams[ch.value]; !ok {
			return nil, refuse(fmt.Sprintf("%s can be %q (%s:%d), which is no upstream here", name, ch.value, ch.d.File, ch.d.Line))
		}
		values = appendNew(values, ch.value)
	}
	if len(values) == 0 {
		return nil, refuse(name + " names no upstream")
	}
	if key != nil && vars.dependsOnUpgrade(key.Args[0], 0) {
		// One route per upstream: the map picks the WebSocket upstream for
		// upgrade requests.
		upV, ok1 := vars.valueOn(name, true, 0)
		plainV, ok2 := vars.valueOn(name, false, 0)
		var out []*nginxRoute
		for _, v := range values {
			r := &nginxRoute{pass: d, entry: v, group: []string{v}}
			if ok1 && ok2 {
				r.upgrade = v == upV && v != plainV
			} else {
				for _, ch := range choices {
					r.upgrade = r.upgrade || ch.value == v && !ch.isDefault && ch.key != ""
				}
			}
			out = append(out, r)
		}
		return out, nil
	}
	// The upstreams form one pool: the default one takes new clients.
	entry := values[0]
	for _, ch := range choices {
		if ch.isDefault && ch.value != "" {
			entry = ch.value
		}
	}
	group := []string{entry}
	for _, v := range values {
		group = appendNew(group, v)
	}
	r := &nginxRoute{pass: d, entry: entry, group: group}
	if key != nil && hashCookie.MatchString(key.Args[0]) {
		r.key = key
	}
	return []*nginxRoute{r}, nil
}

// locate finds the route's location and scores how likely it carries
// WebSockets.
// It reports false for a proxy_pass outside any location of a server.
func (r *nginxRoute) locate(parents []*crossplane.Directive, vars *nginxVars) bool {
	r.loc, r.srv = nearest(parents, "location"), nearest(parents, "server")
	r.pathLoc = r.loc
	if r.loc == nil || r.srv == nil {
		return false
	}
	if ifd := nearest(parents, "if"); ifd != nil && vars.upgradeCondition(ifd.Args) > 0 {
		r.upgrade = true
	}
	chain := parents
	if strings.HasPrefix(firstArg(r.loc), "@") {
		r.fallback = true // unless an upgrade check or a plain hand-over leads here
		for _, ref := range handOvers(r.srv, firstArg(r.loc)) {
			switch {
			case ref.upgrade(vars):
				r.pathLoc, r.upgrade, r.fallback = ref.from, true, false
			case !ref.serverErrors() && r.fallback:
				r.pathLoc, r.fallback = ref.from, false
			case r.pathLoc == r.loc:
				r.pathLoc = ref.from
			}
		}
	}
	if turnsAwayPlainRequests(r.loc, vars) || (r.pathLoc != r.loc && r.pathLoc.Directive == "location" && turnsAwayPlainRequests(r.pathLoc, vars)) {
		r.upgrade = true
	}
	r.forwards = effectiveHeader(chain, "Upgrade")
	r.setsCookie = hasAddHeader(chain, "Set-Cookie")

	r.score = 2
	if r.upgrade {
		r.score += 8
		r.why = append(r.why, "chosen for Upgrade requests")
	}
	if r.forwards {
		r.score += 4
		r.why = append(r.why, "forwards the Upgrade header")
	}
	switch lpath := locationPath(r.pathLoc); {
	case rewrite.WebSocketName.MatchString(strings.Trim(lpath, "/")):
		r.score += 2
		r.why = append(r.why, "path looks like WebSockets")
	case lpath == "/":
		r.score++
		r.why = append(r.why, "location /")
	}
	if r.fallback {
		r.score = 1
		r.why = append(r.why, "fallback for server errors")
	}
	if len(r.why) == 0 {
		r.why = []string{"proxy_pass"}
	}
	return true
}

// markPool flags the servers of the chosen route's pool: the entry
// upstream's servers as written there, servers reachable only through
// the route's other upstreams or its error_page fallbacks as backups.
func (a *nginxAnalysis) markPool(c *rewrite.Config, best *nginxRoute, members map[string][]membership, vars *nginxVars) {
	inPool := map[int]bool{}
	for _, m := range members[best.entry] {
		s := &c.Servers[m.server]
		s.WebSocket, s.Pool, s.Weight, s.Backup = true, best.entry, m.weight, m.backup
		inPool[m.server] = true
	}
	extra := append([]string(nil), best.group[1:]...)
	if best.loc != nil && best.srv != nil && !best.fallback {
		for _, fb := range fallbackLocations(best, best.srv) {
			walkDirectives(fb.Block, nil, func(d *crossplane.Directive, _ []*crossplane.Directive) bool {
				if d.Directive == "proxy_pass" && len(d.Args) > 0 {
					if rs, err := a.routes(d, vars, c); err == nil {
						for _, r := range rs {
							extra = appendNew(extra, r.group...)
						}
					}
				}
				return true
			})
		}
	}
	var backups []string
	for _, up := range extra {
		for _, m := range members[up] {
			if inPool[m.server] {
				continue
			}
			s := &c.Servers[m.server]
			s.WebSocket, s.Pool, s.Weight, s.Backup = true, best.entry, m.weight, true
			inPool[m.server] = true
			backups = append(backups, s.ID)
		}
	}
	if up, ok := a.direct[best.entry]; ok {
		for i := range c.Servers {
			if c.Servers[i].ID == up {
				c.Servers[i].WebSocket = true
			}
		}
	}
	if len(backups) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("pool %s: %s, not in %s but reached through %s, count as backups",
			best.entry, strings.Join(backups, ", "), best.entry, strings.Join(extra, ", ")))
	}
}

// fallbackLocations are the named locations the route's location hands
// requests to on server errors (error_page 502 = @fallback).
func fallbackLocations(r *nginxRoute, srv *crossplane.Directive) []*crossplane.Directive {
	var out []*crossplane.Directive
	for _, blk := range []*crossplane.Directive{r.loc, r.srv} {
		for _, d := range blk.Block {
			ep, ok := parseErrorPage(d)
			if !ok || !ep.serverErrors() {
				continue
			}
			walkDirectives(srv.Block, nil, func(l *crossplane.Directive, _ []*crossplane.Directive) bool {
				if l.Directive == "location" && firstArg(l) == ep.target && l != r.loc {
					out = append(out, l)
				}
				return true
			})
		}
	}
	return out
}

// handOver is an error_page in a location (or server) that continues in a
// named location.
type handOver struct {
	from   *crossplane.Directive // location or server
	codes  []string
	target string
}

func (h handOver) serverErrors() bool {
	for _, c := range h.codes {
		if !strings.HasPrefix(c, "5") {
			return false
		}
	}
	return len(h.codes) > 0
}

// upgrade reports whether the location returns one of the hand-over codes
// exactly for upgrade requests: `if ($is_websocket) { return 418; }`.
func (h handOver) upgrade(vars *nginxVars) bool {
	for _, d := range h.from.Block {
		if d.Directive != "if" || vars.upgradeCondition(d.Args) <= 0 {
			continue
		}
		for _, inner := range d.Block {
			if inner.Directive == "return" && len(inner.Args) > 0 && contains(h.codes, inner.Args[0]) {
				return true
			}
		}
	}
	return false
}

func parseErrorPage(d *crossplane.Directive) (handOver, bool) {
	if d.Directive != "error_page" || len(d.Args) < 2 {
		return handOver{}, false
	}
	target := d.Args[len(d.Args)-1]
	if !strings.HasPrefix(target, "@") {
		return handOver{}, false
	}
	var codes []string
	for _, a := range d.Args[:len(d.Args)-1] {
		if _, err := strconv.Atoi(a); err == nil {
			codes = append(codes, a)
		}
	}
	return handOver{codes: codes, target: target}, true
}

// handOvers lists the error_pages in srv (and its locations) that lead to
// the named location.
func handOvers(srv *crossplane.Directive, name string) []handOver {
	var out []handOver
	walkDirectives(crossplane.Directives{srv}, nil, func(d *crossplane.Directive, parents []*crossplane.Directive) bool {
		if ep, ok := parseErrorPage(d); ok && ep.target == name && len(parents) > 0 {
			ep.from = parents[len(parents)-1]
			out = append(out, ep)
		}
		return true
	})
	return out
}

// turnsAwayPlainRequests reports whether the location answers requests
// without "Upgrade: websocket" itself: `if ($is_websocket = 0) { return 404; }`.
func turnsAwayPlainRequests(loc *crossplane.Directive, vars *nginxVars) bool {
	for _, d := range loc.Block {
		if d.Directive != "if" || vars.upgradeCondition(d.Args) >= 0 {
			continue
		}
		for _, inner := range d.Block {
			if inner.Directive == "return" {
				return true
			}
		}
	}
	return false
}

// effectiveHeader reports whether requests are sent with the header:
// proxy_set_header is inherited from the nearest enclosing level that has
// any proxy_set_header.
func effectiveHeader(parents []*crossplane.Directive, header string) bool {
	for i := len(parents) - 1; i >= 0; i-- {
		found, set := false, false
		for _, d := range parents[i].Block {
			if d.Directive == "proxy_set_header" && len(d.Args) > 0 {
				set = true
				found = found || strings.EqualFold(d.Args[0], header)
			}
		}
		if set {
			return found
		}
	}
	return false
}

func hasAddHeader(parents []*crossplane.Directive, header string) bool {
	for _, p := range parents {
		for _, d := range p.Block {
			if d.Directive == "add_header" && len(d.Args) > 0 && strings.EqualFold(d.Args[0], header) {
				return true
			}
		}
	}
	return false
}

// nginxVars are the variables a config defines with map and set.
type nginxVars struct {
	maps map[string]*crossplane.Directive   // "$name" → its map block
	sets map[string][]*crossplane.Directive // "$name" → its set directives
	// order lists the map blocks as written.
	order []*crossplane.Directive
}

// allowedOrigin finds an Origin allowlist (map $http_origin $allowed with
// listed sites) and returns one listed site and the map.
func (v *nginxVars) allowedOrigin() (string, *crossplane.Directive) {
	for _, mp := range v.order {
		if mp.Args[0] != "$http_origin" {
			continue
		}
		def := evalMap(mp, "\x00no-such-origin")
		for _, ch := range mapChoices(mp) {
			if !ch.isDefault && rewrite.OriginValue.MatchString(ch.key) && ch.value != def {
				return ch.key, mp
			}
		}
	}
	return "", nil
}

func collectVars(tree crossplane.Directives) *nginxVars {
	v := &nginxVars{maps: map[string]*crossplane.Directive{}, sets: map[string][]*crossplane.Directive{}}
	walkDirectives(tree, nil, func(d *crossplane.Directive, parents []*crossplane.Directive) bool {
		switch {
		case d.Directive == "map" && len(d.Args) == 2 && d.IsBlock():
			v.maps[d.Args[1]] = d
			v.order = append(v.order, d)
			return false
		case d.Directive == "set" && len(d.Args) == 2:
			v.sets[d.Args[0]] = append(v.sets[d.Args[0]], d)
		}
		return true
	})
	return v
}

// mapChoice is one entry of a map block.
type mapChoice struct {
	key, value string
	isDefault  bool
	d          *crossplane.Directive
}

func mapChoices(m *crossplane.Directive) []mapChoice {
	var out []mapChoice
	hasDefault := false
	for _, e := range m.Block {
		switch {
		case len(e.Args) != 1 || e.Directive == "include":
		case e.Directive == "default":
			out = append(out, mapChoice{key: "default", value: e.Args[0], isDefault: true, d: e})
			hasDefault = true
		default:
			out = append(out, mapChoice{key: e.Directive, value: e.Args[0], d: e})
		}
	}
	if !hasDefault {
		out = append(out, mapChoice{key: "default", isDefault: true, d: m})
	}
	return out
}

var varRef = regexp.MustCompile(`\$\{?(\w+)\}?`)

// dependsOnUpgrade reports whether expr reads the Upgrade header, directly
// or through maps.
func (v *nginxVars) dependsOnUpgrade(expr string, depth int) bool {
	if depth > 8 {
		return false
	}
	for _, m := range varRef.FindAllStringSubmatch(expr, -1) {
		if m[1] == "http_upgrade" {
			return true
		}
		if mp := v.maps["$"+m[1]]; mp != nil && v.dependsOnUpgrade(mp.Args[0], depth+1) {
			return true
		}
	}
	return false
}

// upgradeCondition tells whether an `if` condition holds for WebSocket
// handshakes only (1), for every other request only (-1) or is unrelated
// (0).
func (v *nginxVars) upgradeCondition(args []string) int {
	if len(args) == 0 {
		return 0
	}
	up, ok1 := v.valueOn(args[0], true, 0)
	plain, ok2 := v.valueOn(args[0], false, 0)
	if !ok1 || !ok2 {
		return 0
	}
	u, p := evalCondition(up, args[1:]), evalCondition(plain, args[1:])
	switch {
	case u && !p:
		return 1
	case p && !u:
		return -1
	}
	return 0
}

var singleVar = regexp.MustCompile(`^\$\{?(\w+)\}?$`)

// valueOn is the value of a variable on a WebSocket handshake (upgrade)
// or on another request, when it follows from the Upgrade header alone
// ($http_upgrade, or maps of it); ok is false otherwise.
func (v *nginxVars) valueOn(expr string, upgrade bool, depth int) (val string, ok bool) {
	m := singleVar.FindStringSubmatch(expr)
	if m == nil || depth > 8 {
		return "", false
	}
	if m[1] == "http_upgrade" {
		if upgrade {
			return "websocket", true
		}
		return "", true
	}
	mp := v.maps["$"+m[1]]
	if mp == nil {
		return "", false
	}
	in, ok := v.valueOn(mp.Args[0], upgrade, depth+1)
	if !ok {
		return "", false
	}
	return evalMap(mp, in), true
}

// evalMap is the value a map gives for input: exact keys (case-insensitive,
// as nginx compares them) before regexes in order, then the default.
func evalMap(mp *crossplane.Directive, in string) string {
	def := ""
	var regexes []mapChoice
	for _, ch := range mapChoices(mp) {
		switch {
		case ch.isDefault:
			def = ch.value
		case strings.HasPrefix(ch.key, "~"):
			regexes = append(regexes, ch)
		case strings.EqualFold(ch.key, in):
			return ch.value
		}
	}
	for _, ch := range regexes {
		expr := ch.key[1:]
		if strings.HasPrefix(expr, "*") {
			expr = "(?i)" + expr[1:]
		}
		if re, err := regexp.Compile(expr); err == nil && re.MatchString(in) {
			return ch.value
		}
	}
	return def
}

// evalCondition evaluates an nginx `if` condition on a variable's value.
func evalCondition(val string, rest []string) bool {
	if len(rest) < 2 {
		return val != "" && val != "0"
	}
	op, arg := rest[0], rest[1]
	switch op {
	case "=":
		return val == arg
	case "!=":
		return val != arg
	case "~", "~*", "!~", "!~*":
		expr := arg
		if strings.HasSuffix(op, "*") {
			expr = "(?i)" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return false
		}
		return re.MatchString(val) != strings.HasPrefix(op, "!")
	}
	return false
}

func appendNew(list []string, vals ...string) []string {
	for _, v := range vals {
		if !contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
