package istio

import (
	"math"
	"net/netip"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	netv1alpha3 "istio.io/api/networking/v1alpha3"

	"github.com/wslb/wslb/topology"
)

// Mesh is what the Istio and the Gateway API targets share: the
// Kubernetes names and service hosts given to the topology and its pools,
// and each pool's ServiceEntry (its servers) and DestinationRule (its
// affinity as Envoy's consistent hashing, its limits, timeouts and
// health), which the Gateway API has no resources for.
type Mesh struct {
	t *topology.Topology
	// Names hands out object names; the targets take theirs from it too,
	// so that no two objects of the stream share one.
	Names *Names
	// Name is the topology's name as a label: its Gateway's name.
	Name  string
	pools map[string]Pool
}

// Pool is what a pool is called in the mesh.
type Pool struct {
	// Object names the pool's ServiceEntry and DestinationRule.
	Object string
	// Host is the service host routes send to: POOL.TOPOLOGY.wslb.internal,
	// or NAME.NAMESPACE.svc.cluster.local for a Kubernetes Service.
	Host string
	// Port is the port of the service.
	Port uint32
}

// NewMesh names the topology's pools.
func NewMesh(t *topology.Topology) *Mesh {
	m := &Mesh{t: t, Names: NewNames(), pools: map[string]Pool{}}
	topo := Label(t.Name)
	m.Name = m.Names.Get(topo)
	hosts := NewNames()
	for _, p := range t.Pools {
		pn := Pool{Object: m.Names.Get(topo + "-" + Label(p.Name))}
		if s := p.Service; s != nil {
			pn.Host, pn.Port = s.Host(), uint32(s.Port)
		} else {
			pn.Host, pn.Port = hosts.Get(Label(p.Name))+"."+topo+".wslb.internal", servicePort(p)
		}
		m.pools[p.Name] = pn
	}
	return m
}

// Pool is the names of the topology's pool called name.
func (m *Mesh) Pool(name string) Pool { return m.pools[name] }

// PoolObjects are, for each pool in declaration order, its ServiceEntry
// (none for a Kubernetes Service, which is in the mesh already) and
// DestinationRule.
func (m *Mesh) PoolObjects() []Object {
	var objs []Object
	for _, p := range m.t.Pools {
		name := m.Pool(p.Name).Object
		if p.Service == nil {
			objs = append(objs, NewObject(APIVersion, "ServiceEntry", name, m.ServiceEntry(p)))
		}
		objs = append(objs, NewObject(APIVersion, "DestinationRule", name, m.DestinationRule(p)))
	}
	return objs
}

// primaries are the servers a pool balances over. Istio has no backup
// server: backups are left out (see docs/istio.md).
func primaries(p *topology.Pool) []*topology.Server {
	var out []*topology.Server
	for _, s := range p.Servers {
		if !s.Backup {
			out = append(out, s)
		}
	}
	return out
}

// servicePort is the port the pool's service is reached on: its first
// server's (each endpoint maps it to its own).
func servicePort(p *topology.Pool) uint32 {
	if s := primaries(p); len(s) > 0 {
		return uint32(s[0].Address.Port)
	}
	if len(p.Servers) > 0 {
		return uint32(p.Servers[0].Address.Port)
	}
	return 80
}

// ServiceEntry makes the pool's servers, given as addresses, a service of
// the mesh: each is an endpoint with its weight and port.
func (m *Mesh) ServiceEntry(p *topology.Pool) *netv1alpha3.ServiceEntry {
	pn := m.Pool(p.Name)
	se := &netv1alpha3.ServiceEntry{}
	se.Hosts = []string{pn.Host}
	se.Ports = []*netv1alpha3.ServicePort{{Number: pn.Port, Name: "http", Protocol: "HTTP"}}
	se.Location = netv1alpha3.ServiceEntry_MESH_EXTERNAL
	se.Resolution = netv1alpha3.ServiceEntry_STATIC
	servers := NewNames()
	for _, s := range primaries(p) {
		if _, err := netip.ParseAddr(s.Address.Host); err != nil {
			se.Resolution = netv1alpha3.ServiceEntry_DNS
		}
		se.Endpoints = append(se.Endpoints, &netv1alpha3.WorkloadEntry{
			Address: s.Address.Host,
			Ports:   map[string]uint32{"http": uint32(s.Address.Port)},
			Labels:  map[string]string{"wslb.io/server": servers.Get(s.Name)},
			Weight:  uint32(s.Weight),
		})
	}
	return se
}

// DestinationRule carries the pool's balancing and affinity, connection
// limits and timeouts, and health (as outlier detection).
func (m *Mesh) DestinationRule(p *topology.Pool) *netv1alpha3.DestinationRule {
	pn := m.Pool(p.Name)
	dr := &netv1alpha3.DestinationRule{}
	dr.Host = pn.Host
	dr.TrafficPolicy = &netv1alpha3.TrafficPolicy{
		LoadBalancer:     m.loadBalancer(p),
		ConnectionPool:   m.connectionPool(p),
		OutlierDetection: outlierDetection(p),
	}
	return dr
}

func (m *Mesh) loadBalancer(p *topology.Pool) *netv1alpha3.LoadBalancerSettings {
	a := p.Affinity
	hash := &netv1alpha3.LoadBalancerSettings_ConsistentHashLB{}
	switch a.Mode {
	case topology.AffinitySource:
		hash.HashKey = &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_UseSourceIp{UseSourceIp: true}
	case topology.AffinityCookie:
		// A ttl is what makes Envoy set the cookie; 0s is a session cookie.
		c := &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_HTTPCookie{
			Name: a.Cookie, Path: "/", Ttl: durationpb.New(a.CookieMaxAge),
			Attributes: []*netv1alpha3.LoadBalancerSettings_ConsistentHashLB_HTTPCookie_Attribute{{Name: "SameSite", Value: "Lax"}},
		}
		if m.secureCookie(p) {
			c.Attributes = append(c.Attributes, &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_HTTPCookie_Attribute{Name: "Secure"})
		}
		hash.HashKey = &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_HttpCookie{HttpCookie: c}
	case topology.AffinityHeader:
		hash.HashKey = &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_HttpHeaderName{HttpHeaderName: a.Header}
	case topology.AffinityQuery:
		hash.HashKey = &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_HttpQueryParameterName{HttpQueryParameterName: a.Param}
	default:
		simple := netv1alpha3.LoadBalancerSettings_ROUND_ROBIN
		if p.Balance == topology.BalanceLeastConn {
			simple = netv1alpha3.LoadBalancerSettings_LEAST_REQUEST
		}
		return &netv1alpha3.LoadBalancerSettings{LbPolicy: &netv1alpha3.LoadBalancerSettings_Simple{Simple: simple}}
	}
	ring, maglev := ringSize(p)
	if maglev {
		hash.HashAlgorithm = &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_Maglev{
			Maglev: &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_MagLev{TableSize: ring},
		}
	} else {
		hash.HashAlgorithm = &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_RingHash_{
			RingHash: &netv1alpha3.LoadBalancerSettings_ConsistentHashLB_RingHash{MinimumRingSize: ring},
		}
	}
	return &netv1alpha3.LoadBalancerSettings{LbPolicy: &netv1alpha3.LoadBalancerSettings_ConsistentHash{ConsistentHash: hash}}
}

// entriesPerWeight is how many ring entries (or Maglev table slots) each
// unit of server weight gets: enough that the share of keys each server
// owns stays within a few percent of its weight.
const entriesPerWeight = 100

// maxRing is the largest ring hash: beyond it a Maglev table, whose lookup
// does not grow with its size, takes over.
const maxRing = 1 << 16

// maglevSizes are the Maglev table sizes Envoy accepts (primes), smallest
// first; 65537 is its default.
var maglevSizes = []uint64{65537, 131071, 262139, 524287, 1048573, 2097143, 4194301}

// ringSize sizes the pool's hash: a ring hash of the next power of two
// above entriesPerWeight per unit of weight (at least Envoy's default,
// 1024), or, for pools too large for that, the smallest Maglev table
// that holds as many.
func ringSize(p *topology.Pool) (size uint64, maglev bool) {
	weight := 0
	for _, s := range primaries(p) {
		weight += s.Weight
	}
	want := uint64(max(weight, 1) * entriesPerWeight)
	if want <= maxRing {
		size = 1024
		for size < want {
			size *= 2
		}
		return size, false
	}
	for _, m := range maglevSizes {
		if m >= want {
			return m, true
		}
	}
	return maglevSizes[len(maglevSizes)-1], true
}

// secureCookie reports whether every listener whose routes reach p
// terminates TLS: only then may its affinity cookie be Secure.
func (m *Mesh) secureCookie(p *topology.Pool) bool {
	reached := false
	for _, l := range m.t.Listeners {
		for _, r := range m.t.Routes {
			if r.Pool != p.Name || (r.Listener != "" && r.Listener != l.Name) {
				continue
			}
			if l.TLS == nil {
				return false
			}
			reached = true
		}
	}
	return reached
}

// connectionPool bounds connections as the topology's limits do and keeps
// idle upstream connections as long as the proxies would: a WebSocket
// pool's for the tunnel timeout, another's for the server timeout. A
// WebSocket pool's connections stay HTTP/1.1: the upgrade needs it.
func (m *Mesh) connectionPool(p *topology.Pool) *netv1alpha3.ConnectionPoolSettings {
	idle := m.t.Timeouts.Server
	h2 := netv1alpha3.ConnectionPoolSettings_HTTPSettings_DEFAULT
	if p.WebSocket {
		idle = m.t.Timeouts.Tunnel
		h2 = netv1alpha3.ConnectionPoolSettings_HTTPSettings_DO_NOT_UPGRADE
	}
	return &netv1alpha3.ConnectionPoolSettings{
		Tcp: &netv1alpha3.ConnectionPoolSettings_TCPSettings{
			MaxConnections: int32(m.maxConns(p)),
			ConnectTimeout: durationpb.New(m.t.Timeouts.Connect),
		},
		Http: &netv1alpha3.ConnectionPoolSettings_HTTPSettings{
			IdleTimeout:     durationpb.New(idle),
			H2UpgradePolicy: h2,
		},
	}
}

// maxConns is the sum of the servers' limits when each has one, else the
// topology's connection limit; Istio's field is a 32-bit integer.
func (m *Mesh) maxConns(p *topology.Pool) int {
	limit := min(m.t.Limits.MaxConns, math.MaxInt32)
	sum := 0
	for _, s := range primaries(p) {
		if s.MaxConns <= 0 {
			return limit
		}
		sum += s.MaxConns
	}
	if sum == 0 {
		return limit
	}
	return min(sum, limit)
}

// outlierDetection is the health check's passive side: a server that
// fails Fall requests in a row is ejected for Rise intervals. At least
// one server always stays, so a small pool is never ejected whole; a
// one-server pool and a pool without health checks get none.
func outlierDetection(p *topology.Pool) *netv1alpha3.OutlierDetection {
	n := len(primaries(p))
	if !p.Health.Enabled || n < 2 && p.Service == nil {
		return nil
	}
	// A Service's endpoints are not known here: ejecting at most half
	// of them leaves at least one of any number.
	percent := 50
	if p.Service == nil {
		percent = 100 * (n - 1) / n
	}
	return &netv1alpha3.OutlierDetection{
		Consecutive_5XxErrors: wrapperspb.UInt32(uint32(p.Health.Fall)),
		Interval:              durationpb.New(p.Health.Interval),
		BaseEjectionTime:      durationpb.New(max(time.Duration(p.Health.Rise)*p.Health.Interval, time.Second)),
		MaxEjectionPercent:    int32(percent),
	}
}
