package verify

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/wslb/wslb/topology"
)

// poolPlan is everything the scenarios need to know about one pool under
// test: how clients reach it and how it is expected to balance.
type poolPlan struct {
	Name string
	// Listener is the local address clients connect to (HOST:PORT).
	Listener string
	// Path is the request path of the WebSocket handshake; Host, when set,
	// is sent as the Host header; Origin, when set, as the Origin header.
	Path   string
	Host   string
	Origin string
	// Key is what clients differ by.
	Key Key
	// SeedCookie: clients bring the affinity cookie themselves (the
	// proxy only reads it), so each starts with its own value.
	SeedCookie bool
	// Strict: only the failed server's clients may move on failover
	// (consistent hashing, cookies).
	Strict bool
	// Servers are the pool's backends, by echo backend id.
	Servers []BackendInfo
	// resolve, when set, names the backend behind a proxy's identity
	// header value (an address for NGINX).
	resolve func(string) string
	// Timers are the pool's production failure detection settings (the
	// run checks every FastCheckInterval unless Options.ProductionTimers).
	Timers Timers
}

// InputError is a topology or config that cannot be verified as given
// (exit 3 in the CLI).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// backendIDs names one echo backend per server of the topology: the server
// name when it is unique across pools, else "pool.server".
func backendIDs(t *topology.Topology) map[*topology.Server]string {
	count := map[string]int{}
	for _, p := range t.Pools {
		for _, s := range p.Servers {
			count[s.Name]++
		}
	}
	ids := map[*topology.Server]string{}
	for _, p := range t.Pools {
		for _, s := range p.Servers {
			if count[s.Name] == 1 {
				ids[s] = s.Name
			} else {
				ids[s] = p.Name + "." + s.Name
			}
		}
	}
	return ids
}

// localTopology copies t with every listener on the address the driver
// gave it and every server on its backend's address, without TLS (the
// clients speak plain ws:// to the local copy). t is not modified.
func localTopology(t *topology.Topology, listen map[string]netip.AddrPort, serverAddr func(*topology.Server) topology.Address) *topology.Topology {
	c := *t
	c.Listeners = nil
	for _, l := range t.Listeners {
		lc := *l
		a := listen[l.Name]
		lc.Address = topology.Address{Host: a.Addr().String(), Port: int(a.Port())}
		lc.TLS = nil
		c.Listeners = append(c.Listeners, &lc)
	}
	c.Pools = nil
	for _, p := range t.Pools {
		pc := *p
		pc.Servers = nil
		for _, s := range p.Servers {
			sc := *s
			sc.Address = serverAddr(s)
			pc.Servers = append(pc.Servers, &sc)
		}
		c.Pools = append(c.Pools, &pc)
	}
	c.Routes = nil
	for _, r := range t.Routes {
		rc := *r
		c.Routes = append(c.Routes, &rc)
	}
	return &c
}

// selectPools returns the pools to exercise: the named ones, or every
// WebSocket pool.
func selectPools(t *topology.Topology, names []string) ([]*topology.Pool, error) {
	if len(names) > 0 {
		var out []*topology.Pool
		for _, n := range names {
			p := t.Pool(n)
			if p == nil {
				var have []string
				for _, p := range t.Pools {
					have = append(have, p.Name)
				}
				return nil, inputErrorf("no pool %q in %s (pools: %s)", n, t.Filename, strings.Join(have, ", "))
			}
			out = append(out, p)
		}
		return out, nil
	}
	var out []*topology.Pool
	for _, p := range t.Pools {
		if p.WebSocket {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, inputErrorf("%s has no WebSocket pool to verify; name one with --pool", t.Filename)
	}
	return out, nil
}

// planPool works out how clients reach pool p of the local topology t
// (listeners already on loopback) and what it promises.
func planPool(t *topology.Topology, p *topology.Pool, ids map[*topology.Server]string, opts Options) (poolPlan, error) {
	plan := poolPlan{Name: p.Name}
	route := poolRoute(t, p.Name)
	if route == nil {
		return plan, inputErrorf("no route sends requests to pool %q", p.Name)
	}
	var l *topology.Listener
	if route.Listener != "" {
		l = t.Listener(route.Listener)
	} else if len(t.Listeners) > 0 {
		l = t.Listeners[0]
	}
	if l == nil {
		return plan, inputErrorf("route %q has no listener", route.Name)
	}
	plan.Listener = net.JoinHostPort(l.Address.Host, strconv.Itoa(l.Address.Port))
	plan.Path = route.PathPrefix
	if plan.Path == "" {
		plan.Path = "/"
	}
	plan.Host = route.Host
	if len(t.Security.AllowedOrigins) > 0 {
		plan.Origin = t.Security.AllowedOrigins[0]
	}
	if o := opts.Origin; o != "" {
		plan.Origin = o
	}
	plan.Key = keyOf(p.Affinity)
	plan.Strict = p.Affinity.Mode == topology.AffinityCookie || p.Affinity.Consistent
	if opts.Key != nil {
		plan.Key = *opts.Key
	}
	for _, s := range p.Servers {
		plan.Servers = append(plan.Servers, BackendInfo{ID: ids[s], Weight: s.Weight, Backup: s.Backup})
	}
	return plan, nil
}

// poolRoute is the route clients take to reach the pool: a WebSocket route
// first, else the first route to it.
func poolRoute(t *topology.Topology, pool string) *topology.Route {
	var first *topology.Route
	for _, r := range t.Routes {
		if r.Pool != pool {
			continue
		}
		if r.WebSocketOnly {
			return r
		}
		if first == nil {
			first = r
		}
	}
	return first
}

func keyOf(a topology.Affinity) Key {
	switch a.Mode {
	case topology.AffinityCookie:
		return Key{Mode: a.Mode, Name: a.Cookie}
	case topology.AffinityHeader:
		return Key{Mode: a.Mode, Name: a.Header}
	case topology.AffinityQuery:
		return Key{Mode: a.Mode, Name: a.Param}
	case "":
		return Key{Mode: topology.AffinityNone}
	}
	return Key{Mode: a.Mode}
}
