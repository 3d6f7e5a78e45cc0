// Package topology is wslb's typed model of a WebSocket load-balancing
// topology: listeners, routes, pools, servers, affinity, timeouts, reload and
// security settings. Every element keeps the hcl.Range it was declared at so
// that later stages can point diagnostics at the source.
//
// The model is filled by the loader (Load, LoadFile) with every default
// applied and every user string already checked against an allowlist
// grammar: generators may quote values but never need to escape them.
//
// A Range is the definition (header line) of the block an element was
// declared in. Elements whose block was not written (the default timeouts,
// a pool's default affinity or health check, the default route) carry the
// range of the enclosing block or, at the top level, of the file's start.
package topology

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/wslb/wslb/broker"
)

// Topology is a whole load-balancing description.
type Topology struct {
	// Name labels the topology in generated headers and reports.
	Name string
	// Filename is the file the topology was loaded from.
	Filename string

	Targets   Targets
	Listeners []*Listener
	Routes    []*Route
	Pools     []*Pool
	Timeouts  Timeouts
	Reload    Reload
	Security  Security
	Limits    Limits
	Test      Test
}

// Test is how `wslb verify` tests the topology beyond its scenarios.
type Test struct {
	// Faults are fault specs (KIND:SERVER[:VALUE], e.g. "pause:ws2"), the
	// defaults of verify's --fault.
	Faults      []string
	FaultsRange hcl.Range
	Range       hcl.Range
}

// Version is a major.minor.patch proxy version.
type Version struct {
	Major, Minor, Patch int
}

// Listener is an address clients connect to.
type Listener struct {
	Name    string
	Address Address
	TLS     *TLS // nil for plain HTTP
	Range   hcl.Range
}

// Address is a host (IPv4, IPv6 without brackets, or DNS name; "*" or
// "0.0.0.0" for all IPv4 interfaces, "::" for all IPv6) and a port.
type Address struct {
	Host string
	Port int
}

// TLSProfile selects cipher/protocol settings (Mozilla's naming).
type TLSProfile string

const (
	TLSModern       TLSProfile = "modern"
	TLSIntermediate TLSProfile = "intermediate" // default
	TLSOld          TLSProfile = "old"
)

// TLS terminates TLS on a listener.
type TLS struct {
	// Certificate is a PEM file holding the certificate chain, and the key
	// unless Key is set.
	Certificate string
	// Key is an optional separate key file. HAProxy only finds it as
	// Certificate+".key" (the loader warns otherwise); NGINX takes it as
	// ssl_certificate_key, or Certificate when Key is empty.
	Key     string
	Profile TLSProfile
	Range   hcl.Range
}

// Route sends matching requests to a pool. Routes are matched in declaration
// order; the first route whose conditions all hold wins.
type Route struct {
	Name string
	// Listener names the listener the route belongs to; empty means all.
	Listener string
	// PathPrefix matches the request path by prefix ("/" matches all).
	PathPrefix string
	// Host matches the Host header exactly (without port); empty matches all.
	Host string
	// WebSocketOnly matches only WebSocket upgrade requests
	// (Upgrade: websocket).
	WebSocketOnly bool
	Pool          string
	Range         hcl.Range
}

// Pool is a group of servers that share a balancing and affinity policy.
type Pool struct {
	Name string
	// Servers are the pool's servers; none when Service names them.
	Servers []*Server
	// Service, when set, is a Kubernetes Service whose endpoints are the
	// pool's servers (kubernetes_service). Only targets that route to a
	// Service by name (Istio, the Gateway API) take such a pool; the
	// others need addresses (CheckAddresses).
	Service  *KubernetesService
	Balance  Balance  // how clients without affinity are spread
	Affinity Affinity // how a client is kept on one server
	Health   HealthCheck
	// WebSocket reports whether the pool serves WebSocket traffic; it is
	// derived by the loader from the routes that target the pool (a
	// websocket route, or a path known to carry WebSockets), or set
	// explicitly with `websocket = true`.
	WebSocket bool
	// Broker, when set, is the message broker the pool's servers share
	// messages through (nil without a broker block).
	Broker *Broker
	Range  hcl.Range
}

// Broker is a message broker every server of a pool joins: a message
// published on one server reaches the clients of every server, so
// WebSocket-only routes need no affinity.
type Broker struct {
	Kind broker.Kind
	// URL is where the servers reach the broker (broker.CheckURL holds).
	URL string
	// Channel is the RabbitMQ exchange, NATS subject prefix, Redis
	// channel prefix or Kafka topic (written exchange, subject, channel
	// or topic by kind; broker.CheckChannel holds); default
	// broker.DefaultChannel.
	Channel string
	// RoomKey is the handshake query parameter that names a client's
	// room; default DefaultRoomKey.
	RoomKey string
	Range   hcl.Range
}

// ChannelAttr is, per broker kind, the name the topology gives its
// Broker.Channel.
var ChannelAttr = map[broker.Kind]string{
	broker.RabbitMQ: "exchange",
	broker.NATS:     "subject",
	broker.Redis:    "channel",
	broker.Kafka:    "topic",
}

// KubernetesService is a Service in a Kubernetes cluster, by name,
// namespace and port.
type KubernetesService struct {
	Name, Namespace string
	Port            int
	Range           hcl.Range // the kubernetes_service attribute
}

// Host is the Service's name in the cluster's DNS.
func (s *KubernetesService) Host() string {
	return s.Name + "." + s.Namespace + ".svc.cluster.local"
}

func (s *KubernetesService) String() string {
	return s.Name + "." + s.Namespace + ":" + strconv.Itoa(s.Port)
}

// CheckAddresses refuses, for a target that needs server addresses (what
// names it: "HAProxy", "verify"; why says what it does with them), every
// pool that names a Kubernetes Service instead: one line per pool, at the
// kubernetes_service attribute.
func CheckAddresses(t *Topology, what, why string) error {
	var msgs []string
	for _, p := range t.Pools {
		if s := p.Service; s != nil {
			msgs = append(msgs, fmt.Sprintf("%s:%d:%d: pool %q names the Kubernetes Service %q, but %s needs the servers' addresses: %s. Give the pool server blocks, or generate --proxy istio or --proxy gateway-api",
				s.Range.Filename, s.Range.Start.Line, s.Range.Start.Column, p.Name, s, what, why))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// Server is one backend server of a pool.
type Server struct {
	Name    string
	Address Address
	Weight  int  // 1..256, default 1
	Backup  bool // used only when all non-backup servers are down
	// MaxConns limits concurrent connections to the server; 0 is unlimited.
	MaxConns int
	Range    hcl.Range
}

// Balance is the algorithm for requests that affinity does not pin.
type Balance string

const (
	BalanceRoundRobin Balance = "roundrobin" // default
	BalanceLeastConn  Balance = "leastconn"
)

// AffinityMode is what keeps a client on one server.
type AffinityMode string

const (
	AffinityNone   AffinityMode = "none"
	AffinitySource AffinityMode = "source" // client IP address
	AffinityCookie AffinityMode = "cookie" // a cookie the proxy sets
	AffinityHeader AffinityMode = "header" // a request header's value
	AffinityQuery  AffinityMode = "query"  // a query parameter's value
)

// NginxSourceMethod chooses how NGINX hashes the client address.
type NginxSourceMethod string

const (
	// NginxIPHash is `ip_hash`: keys on the first three octets of IPv4.
	NginxIPHash NginxSourceMethod = "ip_hash"
	// NginxHashRemoteAddr is `hash $remote_addr consistent`: the full address.
	NginxHashRemoteAddr NginxSourceMethod = "hash"
)

// Affinity keeps a client on the server it first reached.
type Affinity struct {
	Mode AffinityMode
	// Declared is true when the pool has an affinity block: mode "none"
	// then says the servers share their state, not that it was forgotten.
	Declared bool
	// Consistent selects consistent hashing for hash-based modes (source,
	// header, query; cookie on NGINX without sticky), so that a failed
	// server only moves its own clients. Default true.
	Consistent bool
	// Cookie is the cookie name for AffinityCookie.
	Cookie string
	// CookieMaxAge bounds the affinity cookie's lifetime; 0 is a session
	// cookie.
	CookieMaxAge time.Duration
	// Header is the request header name for AffinityHeader.
	Header string
	// Param is the query parameter name for AffinityQuery.
	Param string
	// NginxSource chooses the NGINX directive for AffinitySource; default
	// NginxIPHash.
	NginxSource NginxSourceMethod
	// ClientIPHeader, when set, is a header (e.g. X-Forwarded-For) that
	// carries the real client address set by a trusted proxy in front; source
	// affinity then keys on it instead of the peer address.
	ClientIPHeader string
	// TrustedProxies are the CIDRs allowed to set ClientIPHeader.
	TrustedProxies []string
	Range          hcl.Range
}

// HealthCheck is an active HTTP health check (HAProxy) and the passive
// failure accounting (NGINX open source has no active checks).
type HealthCheck struct {
	Enabled  bool          // default true
	Path     string        // default "/healthz"
	Interval time.Duration // default 2s
	Rise     int           // default 2
	Fall     int           // default 3
	// Timeout for one check; default equal to the connect timeout.
	Timeout time.Duration
	Range   hcl.Range
}

// Timeouts of the proxy, with WebSocket-friendly defaults.
type Timeouts struct {
	Connect   time.Duration // default 5s
	Client    time.Duration // default 60s: idle plain HTTP client
	Server    time.Duration // default 60s: idle plain HTTP server
	Tunnel    time.Duration // default 1h: idle upgraded (WebSocket) connection
	ClientFin time.Duration // default 30s: half-closed client side
	ServerFin time.Duration // default 30s: half-closed server side
	// HTTPRequest bounds receiving a whole request header; default 10s.
	HTTPRequest time.Duration
	// HTTPKeepAlive bounds waiting for the next request; default 10s.
	HTTPKeepAlive time.Duration
	Range         hcl.Range
}

// Reload controls graceful reloads: how long old processes may keep
// established (WebSocket) connections before they are closed.
type Reload struct {
	// Drain is HAProxy's hard-stop-after and NGINX's
	// worker_shutdown_timeout; default 30m.
	Drain time.Duration
	Range hcl.Range
}

// Security holds request filtering settings.
type Security struct {
	// AllowedOrigins are the exact Origin values (scheme://host[:port]) a
	// WebSocket handshake may carry; empty means Origin is not checked.
	AllowedOrigins []string
	// AllowMissingOrigin accepts handshakes with no Origin header (non-browser
	// clients); default true.
	AllowMissingOrigin bool
	Range              hcl.Range
}

// Limits size the proxies.
type Limits struct {
	// MaxConns is the maximum concurrent client connections; default derived
	// from the pools' server MaxConns (or 10000 when they are unlimited).
	MaxConns int
	// MaxConnsSet is true when max_conns was written in the topology
	// rather than derived; generators may lower a derived value to fit the
	// machine's descriptor limit, never a written one.
	MaxConnsSet bool
	Range       hcl.Range
}

// Pool returns the pool with the given name, or nil.
func (t *Topology) Pool(name string) *Pool {
	for _, p := range t.Pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Listener returns the listener with the given name, or nil.
func (t *Topology) Listener(name string) *Listener {
	for _, l := range t.Listeners {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// AtLeast reports whether v >= major.minor.patch.
func (v Version) AtLeast(major, minor, patch int) bool {
	return v.Compare(Version{Major: major, Minor: minor, Patch: patch}) >= 0
}

// Compare orders versions: negative when v is older than o, zero when
// they are equal, positive when v is newer.
func (v Version) Compare(o Version) int {
	if v.Major != o.Major {
		return cmp.Compare(v.Major, o.Major)
	}
	if v.Minor != o.Minor {
		return cmp.Compare(v.Minor, o.Minor)
	}
	return cmp.Compare(v.Patch, o.Patch)
}

// String renders the address as host:port, bracketing IPv6 hosts.
func (a Address) String() string {
	if strings.Contains(a.Host, ":") {
		return "[" + a.Host + "]:" + strconv.Itoa(a.Port)
	}
	return a.Host + ":" + strconv.Itoa(a.Port)
}

// Short renders the version as MAJOR.MINOR when its patch level is zero,
// else as String does.
func (v Version) Short() string {
	if v.Patch == 0 {
		return fmt.Sprintf("%d.%d", v.Major, v.Minor)
	}
	return v.String()
}

// String renders the version as MAJOR.MINOR.PATCH.
func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
}
