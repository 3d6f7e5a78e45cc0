package generator

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/topology"
)

// The NGINX generator registers itself as every proxy's does.
func init() { Register(proxybin.Nginx, fromView(buildNginx, "nginx.conf.tmpl")) }

// nginxView is everything nginx.conf.tmpl prints. Values that reach the
// config as words are already checked and quoted (ngQuote); durations are
// printed by the template's dur.
type nginxView struct {
	Header            []string
	WorkerConnections int
	RlimitNofile      int
	ShutdownTimeout   time.Duration
	Runtime           *nginxRuntime
	Timeouts          topology.Timeouts
	Origin            *ngMap // nil: Origin is not checked
	// ProxyHeaders are the proxy_set_header lines set for every location
	// in the http block.
	ProxyHeaders []ngHeader
	// OriginHeader passes on the one Origin value checked (with Origin).
	OriginHeader ngHeader
	Maps         []ngMap
	Geos         []ngMap
	Upstreams    []ngUpstream
	Servers      []ngServer
}

type nginxRuntime struct {
	Pid, ErrorLog, AccessLog                                    string
	ClientBodyTemp, ProxyTemp, FastCGITemp, UWSGITemp, SCGITemp string
}

// ngMap is a map (or geo) block.
type ngMap struct {
	Comments []string
	Source   string // map source, "" for geo on $remote_addr
	Var      string
	Volatile bool
	Entries  []ngEntry
}

type ngEntry struct{ Key, Value string }

type ngUpstream struct {
	Name string
	// Ignore lists validate rules suppressed on the opening line, for
	// choices the topology made explicitly.
	Ignore   string
	Comments []string
	ZoneKB   int
	Balance  ngBalance
	Servers  []ngUpstreamServer
}

// ngBalance chooses the balancing method and affinity of an upstream.
type ngBalance struct {
	Method string  // "least_conn", "ip_hash" or "" (round-robin)
	Hash   *ngHash // hash on a key
	Sticky *ngSticky
}

type ngHash struct {
	Key        string // an NGINX variable
	Consistent bool
}

type ngSticky struct {
	Cookie string
	// Expires is whole seconds (sticky expires takes no milliseconds); 0:
	// a session cookie.
	Expires time.Duration
	Secure  bool
}

type ngUpstreamServer struct {
	Name, Addr string
	Weight     int // 0: the default weight
	MaxConns   int
	MaxFails   int
	// FailTimeout is whole seconds (fail_timeout takes no milliseconds);
	// 0: not set.
	FailTimeout time.Duration
	Backup      bool
}

// ngHeader is a header name and its value (an NGINX variable).
type ngHeader struct{ Name, Value string }

type ngListen struct {
	Addr          string
	SSL           bool
	DefaultServer bool
}

type ngServer struct {
	Listen     ngListen
	ServerName string
	TLS        *ngTLS
	Origin     bool
	Locations  []ngLocation
}

type ngTLS struct {
	Certificate, Key string
	Protocols        []string
	Ciphers          string // "" for TLS 1.3 only
}

// ngLocation is a prefix location or a named one (Match starts with '@').
type ngLocation struct {
	Match    string
	Comments []string
	// Return is a status returned for every request (no proxying).
	Return int
	// OnlyWebSocket refuses requests that are not WebSocket handshakes.
	OnlyWebSocket bool
	// WebSocketTo sends WebSocket handshakes to this named location.
	WebSocketTo string
	Proxy       *ngProxy
}

type ngProxy struct {
	// Upstream is the upstream name, or the variable holding it, that
	// proxy_pass sends to over http.
	Upstream    string
	ReadTimeout time.Duration
	SendTimeout time.Duration
	// AddHeaders are response headers added to every response ("always").
	AddHeaders []ngHeader
	// Headers are the location's own proxy_set_header lines (WebSocket
	// pools): the http block's set, repeated because a location that sets
	// any header inherits none.
	Headers  []ngHeader
	BackupTo string // named location for when every primary server failed
}

// ngPool is what locations need to know to proxy to a pool.
type ngPool struct {
	pool       *topology.Pool
	upstream   string     // upstream name or variable for proxy_pass
	addHeaders []ngHeader // response headers added ("always")
	backup     string     // upstream of backup servers for hash methods, or ""
}

type nginxBuilder struct {
	t     *topology.Topology
	opts  Options
	ids   *idents
	view  *nginxView
	pools map[string]*ngPool
}

func buildNginx(t *topology.Topology, opts Options) (*nginxView, error) {
	n, _ := maxConns(t, opts)
	wc, rl := nginxSizing(n)
	if lim := opts.FDLimit; lim > 0 && !t.Limits.MaxConnsSet && rl > lim {
		wc, rl = max(lim-nginxSlack, 1), lim
	}
	v := &nginxView{
		Header:            header(t, t.Targets.Version(string(proxybin.Nginx)), "NGINX"),
		WorkerConnections: wc,
		RlimitNofile:      rl,
		ShutdownTimeout:   t.Reload.Drain,
		Timeouts:          t.Timeouts,
		ProxyHeaders: []ngHeader{
			{"Upgrade", "$http_upgrade"}, {"Connection", "$connection_upgrade"}, {"Host", "$host"},
			{"X-Real-IP", "$remote_addr"}, {"X-Forwarded-For", "$proxy_add_x_forwarded_for"},
			{"X-Forwarded-Proto", "$scheme"},
		},
		OriginHeader: ngHeader{"Origin", "$http_origin"},
	}
	if rt := opts.Runtime; rt != nil {
		j := func(name string) string { return path.Join(rt.Dir, name) }
		v.Runtime = &nginxRuntime{
			Pid: j("nginx.pid"), ErrorLog: j("error.log"), AccessLog: j("access.log"),
			ClientBodyTemp: j("client_body_temp"), ProxyTemp: j("proxy_temp"),
			FastCGITemp: j("fastcgi_temp"), UWSGITemp: j("uwsgi_temp"), SCGITemp: j("scgi_temp"),
		}
		if rt.ConsoleLogs {
			v.Runtime.ErrorLog, v.Runtime.AccessLog = "stderr", "/dev/stdout"
		}
	}
	b := &nginxBuilder{t: t, opts: opts, ids: newIdents(), view: v, pools: map[string]*ngPool{}}
	// Reserve the fixed variable names so that no pool-derived one collides.
	b.ids.reserve("connection_upgrade", "wslb_is_websocket", "wslb_origin_allowed", "wslb_origin_denied")
	if err := b.origin(); err != nil {
		return nil, err
	}
	for _, p := range t.Pools {
		if err := b.pool(p); err != nil {
			return nil, err
		}
	}
	for _, l := range t.Listeners {
		if err := b.listener(l); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// nginxSlack is the descriptors NGINX keeps beside its connections:
// listeners, log and temporary files.
const nginxSlack = 1024

// nginxSizing returns worker_connections and worker_rlimit_nofile for a
// client connection budget. A proxied connection holds two connection slots
// (client and upstream); any worker may end up with all of them.
func nginxSizing(maxConn int) (workerConns, rlimit int) {
	const (
		minConns  = 4096
		slack     = nginxSlack
		maxRlimit = 1048576 // Linux's default fs.nr_open
	)
	workerConns = 2 * maxConn
	if workerConns < minConns {
		workerConns = minConns
	}
	if workerConns > maxRlimit-slack {
		workerConns = maxRlimit - slack
	}
	return workerConns, workerConns + slack
}

func (b *nginxBuilder) origin() error {
	sec := b.t.Security
	if len(sec.AllowedOrigins) == 0 {
		return nil
	}
	m := ngMap{Source: "$http_origin", Var: "$wslb_origin_allowed", Entries: []ngEntry{{"default", "0"}}}
	missing := "0"
	if sec.AllowMissingOrigin {
		missing = "1"
	}
	m.Entries = append(m.Entries, ngEntry{ngString(""), missing})
	for _, o := range sec.AllowedOrigins {
		q, err := ngQuote("origin", o)
		if err != nil {
			return err
		}
		m.Entries = append(m.Entries, ngEntry{q, "1"})
	}
	b.view.Origin = &m
	return nil
}

// upstreamServer is one upstream server.
func (b *nginxBuilder) upstreamServer(s *topology.Server, h topology.HealthCheck, backup bool) (ngUpstreamServer, error) {
	addr, err := ngQuote("server address", s.Address.String())
	if err != nil {
		return ngUpstreamServer{}, err
	}
	srv := ngUpstreamServer{Name: s.Name, Addr: addr, MaxConns: max(s.MaxConns, 0), Backup: backup}
	if s.Weight > 1 {
		srv.Weight = s.Weight
	}
	if h.Enabled {
		srv.MaxFails = max(h.Fall, 1)
		srv.FailTimeout = nginx.FailTimeout(h.Interval, srv.MaxFails)
	}
	return srv, nil
}

// zoneKB sizes an upstream's shared memory zone in kilobytes.
func zoneKB(servers int) int {
	return 64 + 2*servers
}

// ngVar is the NGINX variable holding a request header, cookie or query
// parameter; the loader restricts these names to characters NGINX variable
// names accept.
func ngVar(prefix, name string) (string, error) {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' && prefix == "http_") {
			return "", &unsafeError{"name", name}
		}
	}
	if name == "" {
		return "", &unsafeError{"name", name}
	}
	if prefix == "http_" {
		name = strings.ReplaceAll(strings.ToLower(name), "-", "_")
	}
	return "$" + prefix + name, nil
}

// balancing fills in the upstream's balancing and affinity directives. It
// reports whether they hash (no `backup` allowed) and whether cookie
// affinity needs the per-server routing of cookieRoutes.
func (b *nginxBuilder) balancing(p *topology.Pool, up *ngUpstream) (hashed, cookieMap bool, err error) {
	a := p.Affinity
	rr := ""
	if p.Balance == topology.BalanceLeastConn {
		rr = "least_conn"
	}
	switch a.Mode {
	case topology.AffinitySource:
		hashed = true
		switch {
		case a.ClientIPHeader != "":
			key, err := b.clientIPKey(p)
			if err != nil {
				return false, false, err
			}
			up.Comments = append(up.Comments,
				fmt.Sprintf("Source affinity on the client address a trusted proxy put last into %s", a.ClientIPHeader),
				"(see the map above), so that clients behind it are not all sent to one server.")
			up.Balance.Hash = &ngHash{Key: key, Consistent: a.Consistent}
		case a.NginxSource == topology.NginxHashRemoteAddr:
			up.Comments = append(up.Comments,
				"Source affinity on the full client address (IPv4 and IPv6).")
			up.Balance.Hash = &ngHash{Key: "$remote_addr", Consistent: a.Consistent}
		default:
			up.Comments = append(up.Comments,
				"Source affinity with ip_hash: it keys on the first three octets of an IPv4",
				"address (the /24), so neighbours share a server; nginx_method = \"hash\" keys",
				"on the full address with consistent hashing instead.")
			up.Balance.Method = "ip_hash"
		}
	case topology.AffinityHeader:
		hashed = true
		v, err := ngVar("http_", a.Header)
		if err != nil {
			return false, false, err
		}
		up.Comments = append(up.Comments,
			fmt.Sprintf("Header affinity: requests with the same %s value reach the same server.", a.Header))
		up.Balance.Hash = &ngHash{Key: v, Consistent: a.Consistent}
	case topology.AffinityQuery:
		hashed = true
		v, err := ngVar("arg_", a.Param)
		if err != nil {
			return false, false, err
		}
		up.Comments = append(up.Comments,
			fmt.Sprintf("Query affinity: requests with the same ?%s= value reach the same server.", a.Param))
		up.Balance.Hash = &ngHash{Key: v, Consistent: a.Consistent}
	case topology.AffinityCookie:
		up.Balance.Method = rr
		if v := topology.NginxSticky; !b.t.Targets.Version(string(proxybin.Nginx)).AtLeast(v.Major, v.Minor, v.Patch) {
			cookieMap = true
		} else if err := b.sticky(p, up); err != nil {
			return false, false, err
		}
	default:
		up.Comments, up.Ignore = noAffinity(up.Comments, p, "WSLB105")
		up.Balance.Method = rr
	}
	return hashed, cookieMap, nil
}

func (b *nginxBuilder) pool(p *topology.Pool) error {
	np := &ngPool{pool: p}
	b.pools[p.Name] = np
	up := ngUpstream{Name: b.ids.get("wslb", p.Name), ZoneKB: zoneKB(len(p.Servers))}
	np.upstream = up.Name
	hashed, cookieMap, err := b.balancing(p, &up)
	if err != nil {
		return err
	}

	// NGINX cannot combine `backup` with hash or ip_hash, and the cookie
	// routing below needs three tiers (named server, other primaries,
	// backups). Those pools keep their backup servers in a group of their
	// own that locations fall back to when every primary failed.
	primaries, backups := splitBackups(p.Servers)
	isBackup := func(s *topology.Server) bool { return s.Backup && len(backups) > 0 }
	separate := len(backups) > 0 && (hashed || cookieMap)
	for _, s := range p.Servers {
		if separate && isBackup(s) {
			continue
		}
		srv, err := b.upstreamServer(s, p.Health, isBackup(s))
		if err != nil {
			return err
		}
		up.Servers = append(up.Servers, srv)
	}
	if cookieMap {
		if err := b.cookieRoutes(p, np, &up, primaries); err != nil {
			return err
		}
	}
	if p.Health.Enabled {
		up.Comments = append(up.Comments,
			"Passive health: open-source NGINX has no active checks; a server that fails",
			"max_fails times within fail_timeout is skipped for fail_timeout.")
	}
	b.view.Upstreams = append(b.view.Upstreams, up)
	if separate {
		bu := ngUpstream{Name: b.ids.get("wslb", p.Name, "backup"), ZoneKB: zoneKB(len(backups))}
		bu.Comments = []string{fmt.Sprintf("Backup servers of pool %s, used when every primary server failed", p.Name)}
		if hashed {
			bu.Comments = append(bu.Comments, "(NGINX cannot combine backup servers with hash or ip_hash).")
		} else {
			bu.Comments = append(bu.Comments, "(the cookie routing above has no third tier for them).")
		}
		for _, s := range backups {
			srv, err := b.upstreamServer(s, p.Health, false)
			if err != nil {
				return err
			}
			bu.Servers = append(bu.Servers, srv)
		}
		b.view.Upstreams = append(b.view.Upstreams, bu)
		np.backup = bu.Name
	}
	if b.opts.IdentityHeader != "" {
		served, err := b.servedMap(p)
		if err != nil {
			return err
		}
		np.addHeaders = append(np.addHeaders, ngHeader{b.opts.IdentityHeader, served})
	}
	return nil
}

// clientIPKey builds the maps that pick the hash key for source affinity
// behind a trusted proxy and returns the key variable.
func (b *nginxBuilder) clientIPKey(p *topology.Pool) (string, error) {
	a := p.Affinity
	hv, err := ngVar("http_", a.ClientIPHeader)
	if err != nil {
		return "", err
	}
	key := "$" + b.ids.get("wslb", p.Name, "client")
	source := "1|" + hv
	if len(a.TrustedProxies) > 0 {
		trusted := "$" + b.ids.get("wslb", p.Name, "trusted")
		geo := ngMap{Var: trusted, Entries: []ngEntry{{"default", "0"}},
			Comments: []string{fmt.Sprintf("Peers trusted to set %s for pool %s.", a.ClientIPHeader, p.Name)}}
		for _, n := range a.TrustedProxies {
			if err := checkNetwork(n); err != nil {
				return "", err
			}
			geo.Entries = append(geo.Entries, ngEntry{n, "1"})
		}
		b.view.Geos = append(b.view.Geos, geo)
		source = trusted + "|" + hv
	}
	b.view.Maps = append(b.view.Maps, ngMap{
		Comments: []string{
			fmt.Sprintf("Client address for pool %s: the last %s entry when the peer is trusted,", p.Name, a.ClientIPHeader),
			"the peer address otherwise.",
		},
		Source: ngString(source),
		Var:    key,
		Entries: []ngEntry{
			{"default", "$remote_addr"},
			{ngString(`~^1\|(?:.*,)?\s*([^,\s]+)\s*$`), "$1"},
		},
	})
	return key, nil
}

// cookieAttrs renders the affinity cookie's attributes.
func (b *nginxBuilder) cookieAttrs(p *topology.Pool) string {
	attrs := "; Path=/; HttpOnly; SameSite=Lax"
	if p.Affinity.CookieMaxAge > 0 {
		attrs += "; Max-Age=" + strconv.FormatInt(seconds(p.Affinity.CookieMaxAge), 10)
	}
	if secureCookie(b.t, p) {
		attrs += "; Secure"
	}
	return attrs
}

func (b *nginxBuilder) sticky(p *topology.Pool, up *ngUpstream) error {
	a := p.Affinity
	name, err := ngQuote("cookie name", a.Cookie)
	if err != nil {
		return err
	}
	st := &ngSticky{Cookie: name, Secure: secureCookie(b.t, p)}
	if a.CookieMaxAge > 0 {
		st.Expires = wholeSeconds(a.CookieMaxAge)
	}
	up.Comments = append(up.Comments,
		"Cookie affinity with sticky cookie (NGINX 1.29.6 and later): NGINX sets the",
		"cookie on the first response, the WebSocket handshake included.")
	up.Balance.Sticky = st
	return nil
}

// servedMap builds (once) the map from $upstream_addr to the name of the
// server that served the request, and returns its variable. With retries
// $upstream_addr lists every address tried ("a, b"); the last one served.
func (b *nginxBuilder) servedMap(p *topology.Pool) (string, error) {
	v := "$" + b.ids.get("wslb", p.Name, "server")
	for _, m := range b.view.Maps {
		if m.Var == v {
			return v, nil
		}
	}
	m := ngMap{
		Comments: []string{fmt.Sprintf("The server of pool %s that served the request (the last address tried).", p.Name)},
		Source:   "$upstream_addr",
		Var:      v,
		Volatile: true,
		Entries:  []ngEntry{{"default", ngString("")}},
	}
	for _, s := range p.Servers {
		addr, ok := literalAddr(s.Address)
		if !ok {
			m.Comments = append(m.Comments, fmt.Sprintf("Server %s has a host name: NGINX reports its resolved address, which no entry names.", s.Name))
			continue
		}
		m.Entries = append(m.Entries, ngEntry{ngString(`~(^|\s)` + regexpQuote(addr) + `$`), s.Name})
	}
	b.view.Maps = append(b.view.Maps, m)
	return v, nil
}

// literalAddr renders an IP-literal server address as NGINX prints it in
// $upstream_addr; host names resolve at startup and cannot be predicted
// (localhost is the exception every resolver agrees on).
func literalAddr(a topology.Address) (string, bool) {
	ip, err := netip.ParseAddr(a.Host)
	if err != nil {
		if strings.EqualFold(a.Host, "localhost") {
			return "127.0.0.1:" + strconv.Itoa(a.Port), true
		}
		return "", false
	}
	return netip.AddrPortFrom(ip, uint16(a.Port)).String(), true
}

// regexpQuote escapes the PCRE metacharacters that names and addresses can
// hold; the others ('$', '{', '\\') never pass the grammars.
func regexpQuote(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`.+*?()|[]^`, s[i]) >= 0 {
			sb.WriteByte('\\')
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// cookieRoutes implements cookie affinity without `sticky`: NGINX itself
// must set the cookie, and the cookie must name the server that really
// served the request.
//
//   - The pool upstream balances clients that carry no (valid) cookie.
//   - Every server also gets an upstream of its own, where it is the only
//     primary and the pool's other servers are backups: a client whose
//     cookie names a server reaches it while it is up and fails over to the
//     rest of the pool when it is not.
//   - A map on the cookie picks the upstream; proxy_pass takes it from the
//     variable.
//   - A map on $upstream_addr names the server that answered, and a
//     Set-Cookie (add_header ... always, so that 101 Switching Protocols
//     carries it) is sent whenever that differs from the cookie the client
//     sent: on the first response and after a failover.
func (b *nginxBuilder) cookieRoutes(p *topology.Pool, np *ngPool, up *ngUpstream, primaries []*topology.Server) error {
	a := p.Affinity
	cookieVar, err := ngVar("cookie_", a.Cookie)
	if err != nil {
		return err
	}
	for _, s := range p.Servers {
		if _, ok := literalAddr(s.Address); !ok {
			return fmt.Errorf("pool %s: cookie affinity on NGINX before 1.29.6 needs IP addresses for servers, and server %s has host name %q (set targets.nginx to 1.29.6 or later to use sticky cookie)", p.Name, s.Name, s.Address.Host)
		}
	}
	up.Comments = append(up.Comments,
		"Cookie affinity without sticky (NGINX before 1.29.6): clients without a valid",
		fmt.Sprintf("%s cookie are balanced over this group; the maps above route a cookie", a.Cookie),
		"to the server it names (with the rest of the pool as backups) and set the",
		"cookie to the server that answered.")
	route := ngMap{
		Comments: []string{
			fmt.Sprintf("Cookie affinity for pool %s: the %s cookie names a server; each server", p.Name, a.Cookie),
			"has its own upstream where the pool's other servers are backups.",
		},
		Source:  cookieVar,
		Var:     "$" + b.ids.get("wslb", p.Name, "upstream"),
		Entries: []ngEntry{{"default", up.Name}},
	}
	for _, s := range p.Servers {
		// The named server first; the pool's primaries take over when it
		// is down; the backup group (see the location) when they all are.
		own := ngUpstream{Name: b.ids.get("wslb", p.Name, "server", s.Name), ZoneKB: zoneKB(len(p.Servers)), Balance: up.Balance}
		own.Comments = []string{fmt.Sprintf("Pool %s, clients whose cookie names %s.", p.Name, s.Name)}
		srv, err := b.upstreamServer(s, p.Health, false)
		if err != nil {
			return err
		}
		own.Servers = append(own.Servers, srv)
		for _, o := range primaries {
			if o == s {
				continue
			}
			srv, err := b.upstreamServer(o, p.Health, true)
			if err != nil {
				return err
			}
			own.Servers = append(own.Servers, srv)
		}
		b.view.Upstreams = append(b.view.Upstreams, own)
		// Cookie values are matched case-sensitively (plain map keys are not).
		route.Entries = append(route.Entries, ngEntry{ngString("~^" + regexpQuote(s.Name) + "$"), own.Name})
	}
	b.view.Maps = append(b.view.Maps, route)

	served, err := b.servedMap(p)
	if err != nil {
		return err
	}
	name, err := ngQuote("cookie name", a.Cookie)
	if err != nil {
		return err
	}
	set := ngMap{
		Comments: []string{
			"Set the cookie when the server that answered is not the one the cookie names:",
			"on a client's first response and after a failover.",
		},
		Source:   ngString(cookieVar + "|" + served),
		Var:      "$" + b.ids.get("wslb", p.Name, "set_cookie"),
		Volatile: true,
		Entries: []ngEntry{
			{"default", ngString(name + "=" + served + b.cookieAttrs(p))},
			{ngString(`~\|$`), ngString("")},
		},
	}
	for _, s := range p.Servers {
		n := regexpQuote(s.Name)
		set.Entries = append(set.Entries, ngEntry{ngString(`~^` + n + `\|` + n + `$`), ngString("")})
	}
	b.view.Maps = append(b.view.Maps, set)
	np.upstream = route.Var
	np.addHeaders = append(np.addHeaders, ngHeader{"Set-Cookie", set.Var})
	return nil
}

func (b *nginxBuilder) listen(l *topology.Listener, def bool) ngListen {
	ln := ngListen{Addr: l.Address.String(), SSL: l.TLS != nil, DefaultServer: def}
	if isWildcardHost(l.Address.Host) {
		ln.Addr = strconv.Itoa(l.Address.Port)
	}
	return ln
}

func (b *nginxBuilder) listener(l *topology.Listener) error {
	routes := listenerRoutes(b.t, l)
	var tls *ngTLS
	if l.TLS != nil {
		crt, err := ngQuote("certificate path", l.TLS.Certificate)
		if err != nil {
			return err
		}
		key := crt
		if l.TLS.Key != "" {
			if key, err = ngQuote("key path", l.TLS.Key); err != nil {
				return err
			}
		}
		prof := profileFor(l.TLS.Profile)
		tls = &ngTLS{Certificate: crt, Key: key, Protocols: prof.Protocols, Ciphers: prof.Ciphers}
	}
	hosts := append([]string{""}, hostBlocks(routes)...)
	for _, h := range hosts {
		srv := ngServer{Listen: b.listen(l, h == ""), ServerName: ngString(""), TLS: tls, Origin: b.view.Origin != nil}
		if h != "" {
			q, err := ngQuote("host", h)
			if err != nil {
				return err
			}
			srv.ServerName = q
		}
		named := 0
		for _, plan := range planLocations(routesForHost(routes, h)) {
			locs, err := b.location(plan, &named)
			if err != nil {
				return err
			}
			srv.Locations = append(srv.Locations, locs...)
		}
		// Named locations for backup servers are shared by the locations
		// of a server block.
		srv.Locations = dedupe(srv.Locations)
		b.view.Servers = append(b.view.Servers, srv)
	}
	return nil
}

// proxyFor returns the proxying settings for a pool.
func (b *nginxBuilder) proxyFor(p *ngPool) *ngProxy {
	px := &ngProxy{Upstream: p.upstream, AddHeaders: p.addHeaders}
	if p.pool.WebSocket {
		px.Headers = append(px.Headers, b.view.ProxyHeaders...)
		if b.view.Origin != nil {
			px.Headers = append(px.Headers, b.view.OriginHeader)
		}
		px.ReadTimeout, px.SendTimeout = b.t.Timeouts.Tunnel, b.t.Timeouts.Tunnel
	} else {
		px.ReadTimeout, px.SendTimeout = b.t.Timeouts.Server, b.t.Timeouts.Server
	}
	return px
}

func (b *nginxBuilder) location(plan locationPlan, named *int) ([]ngLocation, error) {
	match, err := ngQuote("path", plan.Prefix)
	if err != nil {
		return nil, err
	}
	loc := ngLocation{Match: match}
	routeNote := func(kind string, r *topology.Route) string {
		return fmt.Sprintf("%s: route %s -> pool %s", kind, r.Name, r.Pool)
	}
	var extra []ngLocation
	ws, httpR := plan.WSRoute, plan.HTTPRoute
	switch {
	case ws == nil && httpR == nil:
		loc.Comments = []string{"No route matches these requests."}
		loc.Return = 404
		return []ngLocation{loc}, nil
	case httpR == nil:
		loc.Comments = []string{routeNote("WebSocket handshakes", ws), "Other requests: no route matches."}
		loc.OnlyWebSocket = true
	case ws == httpR || ws.Pool == httpR.Pool:
		if ws == httpR {
			loc.Comments = []string{fmt.Sprintf("route %s -> pool %s", httpR.Name, httpR.Pool)}
		} else {
			loc.Comments = []string{routeNote("WebSocket handshakes", ws), routeNote("Other requests", httpR)}
		}
	default:
		*named++
		wsLoc := "@wslb_websocket_" + strconv.Itoa(*named)
		loc.Comments = []string{routeNote("WebSocket handshakes", ws) + " (in " + wsLoc + ")", routeNote("Other requests", httpR)}
		loc.WebSocketTo = wsLoc
		np := b.pools[ws.Pool]
		if np == nil {
			return nil, fmt.Errorf("route %s: no pool %q", ws.Name, ws.Pool)
		}
		px := b.proxyFor(np)
		if np.backup != "" {
			px.BackupTo = "@" + np.backup
			extra = append(extra, b.backupLocation(np))
		}
		extra = append([]ngLocation{{Match: wsLoc, Proxy: px}}, extra...)
	}
	target := httpR
	if target == nil {
		target = ws
	}
	np := b.pools[target.Pool]
	if np == nil {
		return nil, fmt.Errorf("route %s: no pool %q", target.Name, target.Pool)
	}
	loc.Proxy = b.proxyFor(np)
	if np.backup != "" {
		loc.Proxy.BackupTo = "@" + np.backup
		extra = append(extra, b.backupLocation(np))
	}
	return append([]ngLocation{loc}, extra...), nil
}

func (b *nginxBuilder) backupLocation(np *ngPool) ngLocation {
	px := b.proxyFor(np)
	px.Upstream = np.backup
	return ngLocation{
		Match:    "@" + np.backup,
		Comments: []string{fmt.Sprintf("Backup servers of pool %s.", np.pool.Name)},
		Proxy:    px,
	}
}

func dedupe(locs []ngLocation) []ngLocation {
	var out []ngLocation
	seen := map[string]bool{}
	for _, l := range locs {
		if !seen[l.Match] {
			seen[l.Match] = true
			out = append(out, l)
		}
	}
	return out
}

// splitBackups separates primary and backup servers. A pool of backup
// servers only has no primaries to back up: they all act as primaries.
func splitBackups(servers []*topology.Server) (primaries, backups []*topology.Server) {
	for _, s := range servers {
		if s.Backup {
			backups = append(backups, s)
		} else {
			primaries = append(primaries, s)
		}
	}
	if len(primaries) == 0 {
		return backups, nil
	}
	return primaries, backups
}
