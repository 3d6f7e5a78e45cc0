package generator

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/topology"
)

// The HAProxy generator registers itself as every proxy's does.
func init() { Register(proxybin.HAProxy, fromView(buildHAProxy, "haproxy.cfg.tmpl")) }

// haproxyView is everything haproxy.cfg.tmpl prints. Values that reach
// the config as words are already checked and quoted (haQuote); durations
// are printed by the template's dur.
type haproxyView struct {
	Header  []string
	MaxConn int
	// MaxConnLowered: the derived budget was lowered to fit FDLimit.
	MaxConnLowered bool
	FDLimit        int
	HardStopAfter  time.Duration
	Runtime        bool
	PidFile        string
	StatsSocket    string
	Timeouts       topology.Timeouts
	Frontends      []haFrontend
	Backends       []haBackend
	// NoRoute is the backend for requests no route matches ("" when every
	// frontend has a catch-all route).
	NoRoute string
}

type haFrontend struct {
	Name           string
	Listener       string
	Bind           haBind
	ForwardedProto string
	Origin         *haOrigin
	// Routes are the conditional routes, in matching order.
	Routes   []haRoute
	Default  haDefault
	Shadowed []string
}

type haBind struct {
	Addr string
	TLS  *haTLS
}

type haTLS struct {
	Cert         string
	ALPN         string
	MinVer       string
	Ciphers      string // "" for TLS 1.3 only
	CipherSuites string
}

type haOrigin struct {
	// Allowed holds the quoted patterns, a bounded number per acl line:
	// HAProxy reads at most 64 words on a line.
	Allowed     [][]string
	DenyMissing bool
}

// haRoute is a route with its conditions: all that are set must hold.
type haRoute struct {
	Name      string
	Backend   string
	Path      *haACL // path prefix
	Host      *haACL // Host header without port, case-insensitive
	WebSocket bool   // WebSocket handshakes only
}

// haACL is a named ACL matching one (quoted) value.
type haACL struct{ Name, Value string }

type haDefault struct {
	Route   string // "" when no route matches every request
	Backend string
}

type haBackend struct {
	Name string
	// Ignore lists validate rules suppressed on the opening line, for
	// choices the topology made explicitly.
	Ignore   string
	Pool     string
	Comments []string
	ClientIP *haClientIP
	Balance  haBalance
	// HashType is "consistent" or "map-based" for hashing methods, "" for
	// the others.
	HashType string
	Cookie   *haCookie
	// Tunnel is the backend's own timeout tunnel, set for WebSocket pools
	// (the same value as defaults) so that the backend says what it
	// carries, as a hand-written one would.
	Tunnel   time.Duration
	Health   *haHealth
	Identity string
	Servers  []haServer
}

// haClientIP takes the client address from a request header for source
// affinity, from trusted peers only when Trusted is set.
type haClientIP struct {
	Header string
	// Trusted holds the trusted networks, a bounded number per acl line.
	Trusted [][]string
}

// haBalance is the balance algorithm: "source", "roundrobin",
// "leastconn", "hdr" (of Header) or "url_param" (Param).
type haBalance struct {
	Algorithm     string
	Header, Param string
}

type haCookie struct {
	Name   string
	Secure bool
	MaxAge time.Duration // 0: a session cookie
}

type haHealth struct {
	Path    string
	Timeout time.Duration // 0: timeout check not set
}

type haServer struct {
	Name, Addr string
	Check      *haCheck
	Weight     int // 0: the default weight
	MaxConn    int
	Backup     bool
	Cookie     string
	// InitAddrNone lets a host name that does not resolve at startup leave
	// the server down instead of refusing to start.
	InitAddrNone bool
}

type haCheck struct {
	Inter      time.Duration
	Rise, Fall int
}

// Mozilla server-side TLS guidelines (version 5.7), per profile.
const (
	cipherSuitesTLS13   = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
	ciphersIntermediate = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" +
		"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" +
		"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" +
		"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
	ciphersOld = ciphersIntermediate + ":" +
		"ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:" +
		"ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:" +
		"DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:AES128-GCM-SHA256:AES256-GCM-SHA384:" +
		"AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:@SECLEVEL=0"
)

// tlsProfile is a profile's protocol floor and TLS 1.2 cipher list.
type tlsProfile struct {
	MinHAProxy string   // ssl-min-ver
	Protocols  []string // NGINX ssl_protocols
	Ciphers    string   // "" for TLS 1.3 only
}

func profileFor(p topology.TLSProfile) tlsProfile {
	switch p {
	case topology.TLSModern:
		return tlsProfile{MinHAProxy: "TLSv1.3", Protocols: []string{"TLSv1.3"}}
	case topology.TLSOld:
		return tlsProfile{MinHAProxy: "TLSv1.0", Protocols: []string{"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}, Ciphers: ciphersOld}
	default:
		return tlsProfile{MinHAProxy: "TLSv1.2", Protocols: []string{"TLSv1.2", "TLSv1.3"}, Ciphers: ciphersIntermediate}
	}
}

func header(t *topology.Topology, target topology.Version, proxy string) []string {
	return []string{
		fmt.Sprintf("Generated by wslb from topology %q for %s %d.%d or later.", t.Name, proxy, target.Major, target.Minor),
		"Do not edit by hand: change the topology and run `wslb generate` again.",
		"Lines starting with \"wslb:\" explain the choices that are easy to get wrong.",
	}
}

func buildHAProxy(t *topology.Topology, opts Options) (*haproxyView, error) {
	maxConn, lowered := maxConns(t, opts)
	v := &haproxyView{
		MaxConnLowered: lowered,
		FDLimit:        opts.FDLimit,
		Header:         header(t, t.Targets.Version(string(proxybin.HAProxy)), "HAProxy"),
		MaxConn:        maxConn,
		HardStopAfter:  t.Reload.Drain,
		Runtime:        opts.Runtime != nil,
		PidFile:        "/run/haproxy.pid",
		StatsSocket:    "/run/haproxy/admin.sock",
		Timeouts:       t.Timeouts,
	}
	if opts.Runtime != nil {
		v.StatsSocket = path.Join(opts.Runtime.Dir, "haproxy.sock")
	}
	for _, l := range t.Listeners {
		fe, needsNoRoute, err := haFrontendFor(t, l)
		if err != nil {
			return nil, err
		}
		if needsNoRoute {
			v.NoRoute = haNoRoute
		}
		v.Frontends = append(v.Frontends, fe)
	}
	for _, p := range t.Pools {
		be, err := haBackendFor(t, p, opts)
		if err != nil {
			return nil, err
		}
		v.Backends = append(v.Backends, be)
	}
	return v, nil
}

// haNoRoute is the backend that answers requests no route matches.
const haNoRoute = "wslb_no_route"

// haBackendName is the backend of a pool; routes name it in use_backend.
func haBackendName(pool string) string { return "be_" + pool }

// maxConns is the client connection budget of the proxy; the loader always
// sets it, topologies built in code may not. A derived budget is lowered to
// what fits opts.FDLimit; lowered reports that.
func maxConns(t *topology.Topology, opts Options) (n int, lowered bool) {
	n = t.Limits.MaxConns
	if n <= 0 {
		n = topology.DefaultMaxConns
	}
	if t.Limits.MaxConnsSet || opts.FDLimit <= 0 {
		return n, false
	}
	if fit := fdBudget(t, opts.FDLimit); fit < n {
		return fit, true
	}
	return n, false
}

// fdBudget is the largest connection budget whose descriptors fit limit.
// HAProxy needs two per connection plus one per listener and server and a
// few dozen of its own (it asked for 20,029 with maxconn 10000, one
// listener and one server); NGINX's worker_rlimit_nofile adds nginxSlack.
func fdBudget(t *topology.Topology, limit int) int {
	reserve := nginxSlack + len(t.Listeners)
	for _, p := range t.Pools {
		reserve += len(p.Servers)
	}
	return max((limit-reserve)/2, 1)
}

func haBindFor(l *topology.Listener) (haBind, error) {
	var b haBind
	switch {
	case isWildcardHost(l.Address.Host):
		b.Addr = ":" + strconv.Itoa(l.Address.Port)
	default:
		b.Addr = l.Address.String()
	}
	if l.TLS == nil {
		return b, nil
	}
	crt, err := haQuote("certificate path", l.TLS.Certificate)
	if err != nil {
		return b, err
	}
	prof := profileFor(l.TLS.Profile)
	b.TLS = &haTLS{Cert: crt, ALPN: "h2,http/1.1", MinVer: prof.MinHAProxy, Ciphers: prof.Ciphers, CipherSuites: cipherSuitesTLS13}
	return b, nil
}

func haFrontendFor(t *topology.Topology, l *topology.Listener) (haFrontend, bool, error) {
	fe := haFrontend{Name: "fe_" + l.Name, Listener: l.Name, ForwardedProto: "http"}
	if l.TLS != nil {
		fe.ForwardedProto = "https"
	}
	bind, err := haBindFor(l)
	if err != nil {
		return fe, false, err
	}
	fe.Bind = bind

	if len(t.Security.AllowedOrigins) > 0 {
		var quoted []string
		for _, o := range t.Security.AllowedOrigins {
			q, err := haQuote("origin", o)
			if err != nil {
				return fe, false, err
			}
			quoted = append(quoted, q)
		}
		fe.Origin = &haOrigin{Allowed: haChunks(quoted), DenyMissing: !t.Security.AllowMissingOrigin}
	}

	var catchAll *topology.Route
	for _, r := range listenerRoutes(t, l) {
		if catchAll != nil {
			fe.Shadowed = append(fe.Shadowed, fmt.Sprintf("route %q is never reached: route %q before it matches every request", r.Name, catchAll.Name))
			continue
		}
		if unconditional(r) {
			catchAll = r
			fe.Default = haDefault{Route: r.Name, Backend: haBackendName(r.Pool)}
			continue
		}
		route := haRoute{Name: r.Name, Backend: haBackendName(r.Pool), WebSocket: r.WebSocketOnly}
		if p := routePrefix(r); p != "/" {
			q, err := haQuote("path", p)
			if err != nil {
				return fe, false, err
			}
			route.Path = &haACL{Name: "route_" + r.Name + "_path", Value: q}
		}
		if r.Host != "" {
			q, err := haQuote("host", strings.ToLower(r.Host))
			if err != nil {
				return fe, false, err
			}
			route.Host = &haACL{Name: "route_" + r.Name + "_host", Value: q}
		}
		fe.Routes = append(fe.Routes, route)
	}
	if catchAll == nil {
		fe.Default = haDefault{Backend: haNoRoute}
		return fe, true, nil
	}
	return fe, false, nil
}

func haBackendFor(t *topology.Topology, p *topology.Pool, opts Options) (haBackend, error) {
	be := haBackend{Name: haBackendName(p.Name), Pool: p.Name}
	a := p.Affinity
	hashType := "map-based"
	if a.Consistent {
		hashType = "consistent"
	}
	balance := "roundrobin"
	if p.Balance == topology.BalanceLeastConn {
		balance = "leastconn"
	}
	switch a.Mode {
	case topology.AffinitySource:
		if a.ClientIPHeader != "" {
			h, err := haQuote("client IP header", a.ClientIPHeader)
			if err != nil {
				return be, err
			}
			be.ClientIP = &haClientIP{Header: h}
			if len(a.TrustedProxies) > 0 {
				var nets []string
				for _, n := range a.TrustedProxies {
					if err := checkNetwork(n); err != nil {
						return be, err
					}
					nets = append(nets, n)
				}
				be.ClientIP.Trusted = haChunks(nets)
				be.Comments = append(be.Comments,
					fmt.Sprintf("Source affinity keys on the last address in %s when the peer is a trusted proxy in front,", a.ClientIPHeader),
					"so that clients behind it are not all sent to one server.")
			} else {
				be.Comments = append(be.Comments,
					fmt.Sprintf("Source affinity keys on the last address in %s, from any peer: no trusted proxies are listed.", a.ClientIPHeader))
			}
		}
		be.Comments = append(be.Comments, "Source affinity: a client address always hashes to the same server.")
		if a.Consistent {
			be.Comments = append(be.Comments,
				"hash-type consistent moves only a failed server's clients; the default map-based",
				"hash reshuffles everyone when a server goes down.")
		}
		be.Balance = haBalance{Algorithm: "source"}
		be.HashType = hashType
	case topology.AffinityCookie:
		name, err := haQuote("cookie name", a.Cookie)
		if err != nil {
			return be, err
		}
		be.Cookie = &haCookie{Name: name, Secure: secureCookie(t, p), MaxAge: max(a.CookieMaxAge, 0)}
		be.Comments = append(be.Comments,
			"Cookie affinity: HAProxy sets the cookie on the first response (the WebSocket",
			"handshake included) naming the server; browsers send it back on every request and",
			"handshake. indirect hides it from the servers, nocache keeps shared caches from",
			"storing responses that set it. New clients are spread by balance "+balance+".")
		be.Balance = haBalance{Algorithm: balance}
	case topology.AffinityHeader:
		h, err := haQuote("header name", a.Header)
		if err != nil {
			return be, err
		}
		be.Comments = append(be.Comments,
			fmt.Sprintf("Header affinity: requests with the same %s value reach the same server;", a.Header),
			"requests without it are spread round-robin.")
		be.Balance = haBalance{Algorithm: "hdr", Header: h}
		be.HashType = hashType
	case topology.AffinityQuery:
		q, err := haQuote("query parameter", a.Param)
		if err != nil {
			return be, err
		}
		be.Comments = append(be.Comments,
			fmt.Sprintf("Query affinity: requests with the same ?%s= value reach the same server;", a.Param),
			"requests without it are spread round-robin.")
		be.Balance = haBalance{Algorithm: "url_param", Param: q}
		be.HashType = hashType
	default:
		be.Comments, be.Ignore = noAffinity(be.Comments, p, "WSLB204")
		be.Balance = haBalance{Algorithm: balance}
	}
	if p.WebSocket {
		be.Tunnel = t.Timeouts.Tunnel
	}
	h := p.Health
	var check *haCheck
	if h.Enabled {
		hp, err := haQuote("health check path", h.Path)
		if err != nil {
			return be, err
		}
		be.Health = &haHealth{Path: hp, Timeout: max(h.Timeout, 0)}
		check = &haCheck{Inter: h.Interval, Rise: h.Rise, Fall: h.Fall}
	}
	be.Identity = opts.IdentityHeader
	for _, s := range p.Servers {
		srv, err := haServerFor(s, p, check)
		if err != nil {
			return be, err
		}
		be.Servers = append(be.Servers, srv)
	}
	return be, nil
}

func haServerFor(s *topology.Server, p *topology.Pool, check *haCheck) (haServer, error) {
	addr, err := haQuote("server address", s.Address.String())
	if err != nil {
		return haServer{}, err
	}
	srv := haServer{Name: s.Name, Addr: addr, Check: check, MaxConn: max(s.MaxConns, 0), Backup: s.Backup}
	if s.Weight > 0 && s.Weight != 1 {
		srv.Weight = s.Weight
	}
	if p.Affinity.Mode == topology.AffinityCookie {
		srv.Cookie = s.Name
	}
	if _, err := netip.ParseAddr(s.Address.Host); err != nil {
		// A host name that does not resolve at startup leaves the server
		// down (health checks report it) instead of refusing to start.
		srv.InitAddrNone = true
	}
	return srv, nil
}

// haMaxValues is how many values one generated acl line holds. HAProxy
// reads at most 64 words on a line and drops the rest with a warning
// ("too many words, truncating"), which loses the ACL; lines declaring
// the same ACL name are ORed, so a long list is split over several.
const haMaxValues = 32

// haChunks splits values into lines of at most haMaxValues.
func haChunks(vals []string) [][]string {
	var lines [][]string
	for len(vals) > 0 {
		n := min(len(vals), haMaxValues)
		lines = append(lines, vals[:n])
		vals = vals[n:]
	}
	return lines
}
