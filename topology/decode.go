package topology

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/wslb/wslb/broker"
)

// Defaults applied by the loader; docs/topology.md lists them too.
const (
	DefaultConnectTimeout       = 5 * time.Second
	DefaultClientTimeout        = 60 * time.Second
	DefaultServerTimeout        = 60 * time.Second
	DefaultTunnelTimeout        = time.Hour
	DefaultClientFinTimeout     = 30 * time.Second
	DefaultServerFinTimeout     = 30 * time.Second
	DefaultHTTPRequestTimeout   = 10 * time.Second
	DefaultHTTPKeepAliveTimeout = 10 * time.Second
	DefaultDrain                = 30 * time.Minute
	DefaultHealthPath           = "/healthz"
	DefaultHealthInterval       = 2 * time.Second
	DefaultHealthRise           = 2
	DefaultHealthFall           = 3
	DefaultWeight               = 1
	DefaultRoomKey              = "room"
	// DefaultMaxConns is Limits.MaxConns when some server is unlimited.
	DefaultMaxConns = 10000
	// MaxConnsLimit bounds every max_conns so that derived sizes (file
	// descriptors, worker connections) stay far from integer overflow.
	MaxConnsLimit = 1000000
)

// Oldest supported proxy versions, also the default targets (the
// proxies' descriptors register them, see RegisterTarget).
var (
	MinHAProxy = Version{Major: 2, Minor: 4}
	MinNginx   = Version{Major: 1, Minor: 18}
)

var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "target"},
		{Type: "listener", LabelNames: []string{"name"}},
		{Type: "route", LabelNames: []string{"name"}},
		{Type: "pool", LabelNames: []string{"name"}},
		{Type: "timeouts"},
		{Type: "reload"},
		{Type: "security"},
		{Type: "limits"},
		{Type: "test"},
	},
}

var listenerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "address", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "tls"}},
}

var tlsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "certificate", Required: true}, {Name: "key"}, {Name: "profile"},
	},
}

var routeSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "path"}, {Name: "host"}, {Name: "websocket"},
		{Name: "pool", Required: true}, {Name: "listener"},
	},
}

var poolSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "balance"}, {Name: "websocket"}, {Name: "kubernetes_service"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "affinity"},
		{Type: "health_check"},
		{Type: "broker"},
		{Type: "server", LabelNames: []string{"name"}},
	},
}

var affinitySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "mode", Required: true}, {Name: "consistent"},
		{Name: "cookie"}, {Name: "max_age"},
		{Name: "header"}, {Name: "param"},
		{Name: "nginx_method"}, {Name: "client_ip_header"}, {Name: "trusted_proxies"},
	},
}

// affinityKeys lists, per mode, the attributes that mean something besides
// mode itself; others are errors so that a typo'd mode is not silently
// ignored.
var affinityKeys = map[AffinityMode][]string{
	AffinityNone:   {},
	AffinitySource: {"consistent", "nginx_method", "client_ip_header", "trusted_proxies"},
	AffinityCookie: {"consistent", "cookie", "max_age"},
	AffinityHeader: {"consistent", "header"},
	AffinityQuery:  {"consistent", "param"},
}

var brokerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "kind", Required: true}, {Name: "url", Required: true}, {Name: "room_key"},
		{Name: "exchange"}, {Name: "subject"}, {Name: "channel"}, {Name: "topic"},
	},
}

var healthSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "enabled"}, {Name: "path"}, {Name: "interval"},
		{Name: "rise"}, {Name: "fall"}, {Name: "timeout"},
	},
}

var serverSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "address", Required: true}, {Name: "weight"}, {Name: "backup"}, {Name: "max_conns"},
	},
}

var timeoutsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "connect"}, {Name: "client"}, {Name: "server"}, {Name: "tunnel"},
		{Name: "client_fin"}, {Name: "server_fin"}, {Name: "http_request"}, {Name: "http_keep_alive"},
	},
}

var reloadSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "drain"}}}

var securitySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "allowed_origins"}, {Name: "allow_missing_origin"}},
}

var limitsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "max_conns"}}}

var testSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "faults"}}}

// Source ranges of attributes, kept beside the model for semantic checks.
type (
	listenerSrc struct {
		l    *Listener
		name hcl.Range
		a    *attrs
		tls  *attrs // nil without a tls block
	}
	routeSrc struct {
		r    *Route
		name hcl.Range
		a    *attrs
	}
	poolSrc struct {
		p        *Pool
		name     hcl.Range
		a        *attrs
		affinity *attrs // nil without an affinity block
		health   *attrs // nil without a health_check block
		broker   *attrs // nil without a broker block
		servers  []*serverSrc
	}
	serverSrc struct {
		s    *Server
		name hcl.Range
		a    *attrs
	}
)

// loaded is the model plus the source ranges the checks need.
type loaded struct {
	topo      *Topology
	listeners []*listenerSrc
	routes    []*routeSrc
	pools     []*poolSrc
	timeouts  *attrs
	limits    *attrs

	// Indexes built by index() once every block is decoded.
	poolByName    map[string]*Pool
	listenerNames map[string]bool
	routesTo      map[string][]*routeSrc // pool name → routes, in order
}

// index builds the name indexes the checks use, so that none of them is
// quadratic in the number of blocks.
func (ld *loaded) index() {
	ld.poolByName, ld.listenerNames, ld.routesTo = map[string]*Pool{}, map[string]bool{}, map[string][]*routeSrc{}
	for _, p := range ld.topo.Pools {
		if ld.poolByName[p.Name] == nil {
			ld.poolByName[p.Name] = p
		}
	}
	for _, l := range ld.topo.Listeners {
		ld.listenerNames[l.Name] = true
	}
	for _, rs := range ld.routes {
		ld.routesTo[rs.r.Pool] = append(ld.routesTo[rs.r.Pool], rs)
	}
}

func (d *decoder) decode(body hcl.Body) *Topology {
	c := d.content(body, rootSchema)
	top := d.attrs(c, d.fileStart())
	t := &Topology{Filename: d.filename, Name: defaultName(d.filename)}
	top.str("name", &t.Name, CheckName)

	blocks := map[string][]*hcl.Block{}
	for _, b := range c.Blocks {
		blocks[b.Type] = append(blocks[b.Type], b)
	}
	ld := &loaded{topo: t}
	// Timeouts come first: the health-check timeout defaults to connect.
	ld.timeouts = d.decodeTimeouts(d.single(blocks["timeouts"]), &t.Timeouts)
	d.decodeTargets(d.single(blocks["target"]), &t.Targets)
	d.decodeReload(d.single(blocks["reload"]), &t.Reload)
	d.decodeSecurity(d.single(blocks["security"]), &t.Security)
	ld.limits = d.decodeLimits(d.single(blocks["limits"]), &t.Limits)
	d.decodeTest(d.single(blocks["test"]), &t.Test)
	for _, b := range blocks["listener"] {
		ls := d.decodeListener(b)
		ld.listeners = append(ld.listeners, ls)
		t.Listeners = append(t.Listeners, ls.l)
	}
	for _, b := range blocks["route"] {
		rs := d.decodeRoute(b)
		ld.routes = append(ld.routes, rs)
		t.Routes = append(t.Routes, rs.r)
	}
	for _, b := range blocks["pool"] {
		ps := d.decodePool(b, t.Timeouts.Connect)
		ld.pools = append(ld.pools, ps)
		t.Pools = append(t.Pools, ps.p)
	}
	d.check(ld)
	return t
}

// single returns the only block of a kind, reporting repeats, or nil.
func (d *decoder) single(bs []*hcl.Block) *hcl.Block {
	if len(bs) == 0 {
		return nil
	}
	for _, b := range bs[1:] {
		d.errorf(b.DefRange, fmt.Sprintf("Duplicate %s block", b.Type),
			"Only one %s block is allowed; the first is at line %d. Merge the two.", b.Type, bs[0].DefRange.Start.Line)
	}
	return bs[0]
}

// blockAttrs decodes a block's body; for a nil block it returns empty
// attributes whose ranges point at def.
func (d *decoder) blockAttrs(b *hcl.Block, schema *hcl.BodySchema, def hcl.Range) (*attrs, *hcl.BodyContent) {
	if b == nil {
		return d.attrs(&hcl.BodyContent{Attributes: hcl.Attributes{}}, def), &hcl.BodyContent{}
	}
	c := d.content(b.Body, schema)
	return d.attrs(c, b.DefRange), c
}

// topBlock decodes an optional top-level block (timeouts, target, ...)
// and returns its range, or the file's start when it is absent.
func (d *decoder) topBlock(b *hcl.Block, schema *hcl.BodySchema) (*attrs, hcl.Range) {
	rng := d.fileStart()
	if b != nil {
		rng = b.DefRange
	}
	a, _ := d.blockAttrs(b, schema, rng)
	return a, rng
}

func (d *decoder) label(b *hcl.Block) (string, hcl.Range) {
	name, r := b.Labels[0], b.LabelRanges[0]
	if err := CheckName(name); err != nil {
		d.grammarError(r, err)
	}
	return name, r
}

func (d *decoder) decodeTimeouts(b *hcl.Block, t *Timeouts) *attrs {
	a, rng := d.topBlock(b, timeoutsSchema)
	*t = Timeouts{
		Connect: DefaultConnectTimeout, Client: DefaultClientTimeout, Server: DefaultServerTimeout,
		Tunnel: DefaultTunnelTimeout, ClientFin: DefaultClientFinTimeout, ServerFin: DefaultServerFinTimeout,
		HTTPRequest: DefaultHTTPRequestTimeout, HTTPKeepAlive: DefaultHTTPKeepAliveTimeout,
		Range: rng,
	}
	a.duration("connect", &t.Connect, false)
	a.duration("client", &t.Client, false)
	a.duration("server", &t.Server, false)
	a.duration("tunnel", &t.Tunnel, false)
	a.duration("client_fin", &t.ClientFin, false)
	a.duration("server_fin", &t.ServerFin, false)
	a.duration("http_request", &t.HTTPRequest, false)
	a.duration("http_keep_alive", &t.HTTPKeepAlive, false)
	return a
}

func (d *decoder) decodeReload(b *hcl.Block, r *Reload) {
	a, rng := d.topBlock(b, reloadSchema)
	*r = Reload{Drain: DefaultDrain, Range: rng}
	a.duration("drain", &r.Drain, false)
}

func (d *decoder) decodeSecurity(b *hcl.Block, s *Security) {
	a, rng := d.topBlock(b, securitySchema)
	*s = Security{AllowMissingOrigin: true, Range: rng}
	a.strings("allowed_origins", &s.AllowedOrigins, func(v string) (string, error) { return v, CheckOrigin(v) })
	a.boolean("allow_missing_origin", &s.AllowMissingOrigin)
	if a.has("allow_missing_origin") && !s.AllowMissingOrigin && a.valid("allow_missing_origin") && len(s.AllowedOrigins) == 0 && a.valid("allowed_origins") {
		d.warnf(a.whole("allow_missing_origin"), "Origin check not enabled",
			"allow_missing_origin = false has no effect without allowed_origins: Origin is only checked when allowed_origins lists the sites that may open WebSockets. Add allowed_origins = [\"https://app.example.com\"].")
	}
}

func (d *decoder) decodeLimits(b *hcl.Block, l *Limits) *attrs {
	a, rng := d.topBlock(b, limitsSchema)
	*l = Limits{Range: rng}
	l.MaxConnsSet = a.integer("max_conns", &l.MaxConns, 1, MaxConnsLimit, "Invalid max_conns")
	return a
}

// decodeTest reads how `wslb verify` tests the topology. A fault spec's
// grammar is the driver seam's (verify parses it, citing FaultsRange);
// here it only has to be a spec's characters.
func (d *decoder) decodeTest(b *hcl.Block, t *Test) {
	a, rng := d.topBlock(b, testSchema)
	*t = Test{Range: rng}
	if a.strings("faults", &t.Faults, func(v string) (string, error) { return v, CheckFaultSpec(v) }) {
		t.FaultsRange = a.at("faults")
	}
}

func (d *decoder) decodeListener(b *hcl.Block) *listenerSrc {
	ls := &listenerSrc{l: &Listener{Range: b.DefRange}}
	ls.l.Name, ls.name = d.label(b)
	a, c := d.blockAttrs(b, listenerSchema, b.DefRange)
	ls.a = a
	var addr string
	if a.str("address", &addr, nil) {
		if v, err := ParseListenAddress(addr); err != nil {
			d.grammarError(a.at("address"), err)
			a.reject("address")
		} else {
			ls.l.Address = v
		}
	}
	if tb := d.single(c.Blocks); tb != nil { // tls is the only block type
		t := &TLS{Profile: TLSIntermediate, Range: tb.DefRange}
		ta, _ := d.blockAttrs(tb, tlsSchema, tb.DefRange)
		ta.str("certificate", &t.Certificate, CheckFilePath)
		ta.str("key", &t.Key, CheckFilePath)
		var profile string
		if ta.oneOf("profile", &profile, "Unknown TLS profile",
			string(TLSModern), string(TLSIntermediate), string(TLSOld)) {
			t.Profile = TLSProfile(profile)
		}
		if t.Key != "" && t.Certificate != "" && t.Key != t.Certificate+".key" {
			d.warnf(ta.whole("key"), "HAProxy will not read this key file",
				"HAProxy takes the private key from the certificate file or from %q next to it, not from %q (NGINX uses key as given). Put the key in one of those, or name the key file %q.",
				t.Certificate+".key", t.Key, t.Certificate+".key")
		}
		ls.l.TLS, ls.tls = t, ta
	}
	return ls
}

func (d *decoder) decodeRoute(b *hcl.Block) *routeSrc {
	rs := &routeSrc{r: &Route{PathPrefix: "/", Range: b.DefRange}}
	rs.r.Name, rs.name = d.label(b)
	a, _ := d.blockAttrs(b, routeSchema, b.DefRange)
	rs.a = a
	a.str("path", &rs.r.PathPrefix, CheckPath)
	a.str("host", &rs.r.Host, checkRouteHost)
	a.boolean("websocket", &rs.r.WebSocketOnly)
	a.str("pool", &rs.r.Pool, CheckName)
	a.str("listener", &rs.r.Listener, CheckName)
	return rs
}

// checkRouteHost accepts what a Host header carries for an exact match: a
// host name or an IPv4 address.
func checkRouteHost(s string) error {
	if err := CheckHostName(s); err != nil {
		return err
	}
	return checkNumericHost(s)
}

func (d *decoder) decodePool(b *hcl.Block, connect time.Duration) *poolSrc {
	p := &Pool{
		Balance:  BalanceRoundRobin,
		Affinity: Affinity{Mode: AffinityNone, Consistent: true, NginxSource: NginxHashRemoteAddr, Range: b.DefRange},
		Health: HealthCheck{
			Enabled: true, Path: DefaultHealthPath, Interval: DefaultHealthInterval,
			Rise: DefaultHealthRise, Fall: DefaultHealthFall, Timeout: connect, Range: b.DefRange,
		},
		Range: b.DefRange,
	}
	ps := &poolSrc{p: p}
	p.Name, ps.name = d.label(b)
	a, c := d.blockAttrs(b, poolSchema, b.DefRange)
	ps.a = a
	var balance string
	if a.oneOf("balance", &balance, "Unknown balance algorithm", string(BalanceRoundRobin), string(BalanceLeastConn)) {
		p.Balance = Balance(balance)
	}
	a.boolean("websocket", &p.WebSocket)
	var svc string
	if a.str("kubernetes_service", &svc, nil) {
		if v, err := ParseKubernetesService(svc); err != nil {
			d.grammarError(a.at("kubernetes_service"), err)
			a.reject("kubernetes_service")
		} else {
			v.Range = a.at("kubernetes_service")
			p.Service = &v
		}
	}

	kinds := map[string][]*hcl.Block{}
	for _, sb := range c.Blocks {
		kinds[sb.Type] = append(kinds[sb.Type], sb)
	}
	if ab := d.single(kinds["affinity"]); ab != nil {
		ps.affinity = d.decodeAffinity(ab, &p.Affinity)
	}
	if hb := d.single(kinds["health_check"]); hb != nil {
		ps.health = d.decodeHealth(hb, &p.Health)
	}
	if bb := d.single(kinds["broker"]); bb != nil {
		p.Broker, ps.broker = d.decodeBroker(bb)
	}
	for _, sb := range kinds["server"] {
		ss := d.decodeServer(sb)
		ps.servers = append(ps.servers, ss)
		p.Servers = append(p.Servers, ss.s)
	}
	return ps
}

func (d *decoder) decodeAffinity(b *hcl.Block, af *Affinity) *attrs {
	af.Range, af.Declared = b.DefRange, true
	a, _ := d.blockAttrs(b, affinitySchema, b.DefRange)
	var mode string
	modes := []string{string(AffinityNone), string(AffinitySource), string(AffinityCookie), string(AffinityHeader), string(AffinityQuery)}
	if !a.oneOf("mode", &mode, "Unknown affinity mode", modes...) {
		// Without a valid mode the other attributes cannot be judged
		// against it; their grammar is still checked below.
		mode = ""
	}
	af.Mode = AffinityMode(mode)
	a.boolean("consistent", &af.Consistent)
	a.str("cookie", &af.Cookie, CheckCookieName)
	a.duration("max_age", &af.CookieMaxAge, true)
	a.str("header", &af.Header, CheckHeaderName)
	a.str("param", &af.Param, CheckQueryParam)
	var method string
	if a.oneOf("nginx_method", &method, "Unknown NGINX source method", string(NginxIPHash), string(NginxHashRemoteAddr)) {
		af.NginxSource = NginxSourceMethod(method)
	}
	a.str("client_ip_header", &af.ClientIPHeader, CheckHeaderName)
	a.strings("trusted_proxies", &af.TrustedProxies, ParseCIDR)
	if mode == "" {
		return a // mode is invalid; checks skip pools with an empty mode
	}

	allowed := map[string]bool{"mode": true}
	for _, k := range affinityKeys[af.Mode] {
		allowed[k] = true
	}
	for _, name := range sortedAttrNames(a.m) {
		if !allowed[name] {
			d.errorf(a.whole(name), "Attribute not used by affinity mode",
				"%q has no meaning with mode = %q; it applies to %s. Remove it or change the mode.",
				name, af.Mode, modesUsing(name))
		}
	}
	missing := func(attr, summary, example string) {
		if !a.has(attr) {
			d.errorf(b.DefRange, summary, "Affinity mode %q needs %s, e.g. %s.", af.Mode, attr, example)
		}
	}
	switch af.Mode {
	case AffinityCookie:
		missing("cookie", "Missing affinity cookie name", `cookie = "WSLB_SRV"`)
	case AffinityHeader:
		missing("header", "Missing affinity header", `header = "X-Session-Id"`)
		if why, ok := HandshakeHeader(af.Header); ok {
			d.errorf(a.at("header"), "Affinity header cannot pin a client",
				"%s is a WebSocket handshake header: %s. Key affinity on a header the application sets per session, e.g. header = \"X-Session-Id\", or use mode = \"cookie\" or \"query\".",
				af.Header, why)
		}
	case AffinityQuery:
		missing("param", "Missing affinity query parameter", `param = "sid"`)
	case AffinitySource:
		switch hasHdr, hasNets := a.has("client_ip_header"), a.has("trusted_proxies"); {
		case hasHdr && !hasNets:
			d.errorf(a.whole("client_ip_header"), "Missing trusted_proxies",
				"client_ip_header is only honoured from trusted proxies; list their networks, e.g. trusted_proxies = [\"10.0.0.0/8\"].")
		case hasNets && !hasHdr:
			d.errorf(a.whole("trusted_proxies"), "Missing client_ip_header",
				"trusted_proxies names who may set the client address header; set client_ip_header too, e.g. client_ip_header = \"X-Forwarded-For\".")
		}
	}
	return a
}

// modesUsing lists the affinity modes an attribute belongs to.
func modesUsing(attr string) string {
	var modes []string
	for _, m := range []AffinityMode{AffinitySource, AffinityCookie, AffinityHeader, AffinityQuery} {
		for _, k := range affinityKeys[m] {
			if k == attr {
				modes = append(modes, string(m))
			}
		}
	}
	return "mode " + quoteList(modes)
}

// decodeBroker reads a pool's broker block: the kind first, since the
// URL's scheme, the channel's attribute name and its rules depend on it.
func (d *decoder) decodeBroker(b *hcl.Block) (*Broker, *attrs) {
	br := &Broker{Channel: broker.DefaultChannel, RoomKey: DefaultRoomKey, Range: b.DefRange}
	a, _ := d.blockAttrs(b, brokerSchema, b.DefRange)
	kinds := make([]string, len(broker.KnownKinds))
	for i, k := range broker.KnownKinds {
		kinds[i] = string(k)
	}
	var kind string
	known := a.oneOf("kind", &kind, "Unknown broker kind", kinds...)
	br.Kind = broker.Kind(kind)
	var url string
	if a.str("url", &url, nil) && known {
		if err := broker.CheckURL(br.Kind, url); err != nil {
			d.errorf(a.at("url"), "Invalid broker URL", "%s.", err)
			a.reject("url")
		} else {
			br.URL = url
		}
	}
	for _, name := range []string{"exchange", "subject", "channel", "topic"} {
		var ch string
		if !a.str(name, &ch, nil) || !known {
			continue
		}
		want := ChannelAttr[br.Kind]
		if name != want {
			d.errorf(a.whole(name), "Attribute not used by broker kind",
				"%q has no meaning for kind = %q: a %s broker's messages go to its %s. Write %s = %q instead.",
				name, kind, kind, want, want, ch)
			a.reject(name)
			continue
		}
		if err := broker.CheckChannel(br.Kind, ch); err != nil {
			d.errorf(a.at(name), "Invalid broker "+name, "%s.", err)
			a.reject(name)
			continue
		}
		br.Channel = ch
	}
	a.str("room_key", &br.RoomKey, CheckQueryParam)
	return br, a
}

func (d *decoder) decodeHealth(b *hcl.Block, h *HealthCheck) *attrs {
	h.Range = b.DefRange
	a, _ := d.blockAttrs(b, healthSchema, b.DefRange)
	a.boolean("enabled", &h.Enabled)
	a.str("path", &h.Path, CheckPath)
	a.duration("interval", &h.Interval, false)
	a.duration("timeout", &h.Timeout, false)
	a.integer("rise", &h.Rise, 1, 100, "Health check threshold out of range")
	a.integer("fall", &h.Fall, 1, 100, "Health check threshold out of range")
	return a
}

func (d *decoder) decodeServer(b *hcl.Block) *serverSrc {
	ss := &serverSrc{s: &Server{Weight: DefaultWeight, Range: b.DefRange}}
	ss.s.Name, ss.name = d.label(b)
	a, _ := d.blockAttrs(b, serverSchema, b.DefRange)
	ss.a = a
	var addr string
	if a.str("address", &addr, nil) {
		if v, err := ParseAddress(addr); err != nil {
			d.grammarError(a.at("address"), err)
			a.reject("address")
		} else {
			ss.s.Address = v
		}
	}
	a.integer("weight", &ss.s.Weight, 1, 256, "Weight out of range")
	a.boolean("backup", &ss.s.Backup)
	a.integer("max_conns", &ss.s.MaxConns, 1, MaxConnsLimit, "Invalid max_conns")
	return ss
}
