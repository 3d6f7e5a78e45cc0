package generator

import (
	"strings"

	"github.com/wslb/wslb/topology"
)

// listenerRoutes returns the routes that apply to l, in declaration order
// (the order in which they are matched).
func listenerRoutes(t *topology.Topology, l *topology.Listener) []*topology.Route {
	var out []*topology.Route
	for _, r := range t.Routes {
		if r.Listener == "" || r.Listener == l.Name {
			out = append(out, r)
		}
	}
	return out
}

// unconditional reports whether a route matches every request.
func unconditional(r *topology.Route) bool {
	return (r.PathPrefix == "" || r.PathPrefix == "/") && r.Host == "" && !r.WebSocketOnly
}

// secureCookie reports whether a pool's affinity cookie may carry the
// Secure attribute: only when every listener that routes to the pool
// terminates TLS, otherwise clients on a plain listener would never send
// the cookie back.
func secureCookie(t *topology.Topology, p *topology.Pool) bool {
	reached := false
	for _, l := range t.Listeners {
		for _, r := range listenerRoutes(t, l) {
			if r.Pool != p.Name {
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

// hostBlocks returns the distinct route hosts among routes, in first
// appearance order.
func hostBlocks(routes []*topology.Route) []string {
	var hosts []string
	seen := map[string]bool{}
	for _, r := range routes {
		h := strings.ToLower(r.Host)
		if h != "" && !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// routesForHost returns, in order, the routes a request for host can match:
// routes for that host and routes for any host. host "" selects routes for
// any host only (requests for hosts no route names).
func routesForHost(routes []*topology.Route, host string) []*topology.Route {
	var out []*topology.Route
	for _, r := range routes {
		if r.Host == "" || (host != "" && strings.EqualFold(r.Host, host)) {
			out = append(out, r)
		}
	}
	return out
}

// locationPlan is what one NGINX prefix location must do. NGINX picks the
// location with the longest matching prefix, while wslb routes match in
// declaration order; for a request that lands in the location for prefix
// P, the routes it can match are exactly those whose prefix is a prefix of
// P (every prefix the path starts with is a prefix of the longest one).
// Walking those in declaration order gives the first route for WebSocket
// handshakes and the first for other requests.
type locationPlan struct {
	Prefix    string
	WSRoute   *topology.Route // first match for WebSocket handshakes; nil: 404
	HTTPRoute *topology.Route // first match for other requests; nil: 404
}

// planLocations computes one plan per distinct prefix of routes, plus "/"
// so that no request falls through to NGINX's static file handler.
func planLocations(routes []*topology.Route) []locationPlan {
	prefixes := []string{"/"}
	seen := map[string]bool{"/": true}
	for _, r := range routes {
		p := routePrefix(r)
		if !seen[p] {
			seen[p] = true
			prefixes = append(prefixes, p)
		}
	}
	plans := make([]locationPlan, 0, len(prefixes))
	for _, p := range prefixes {
		plan := locationPlan{Prefix: p}
		for _, r := range routes {
			if !strings.HasPrefix(p, routePrefix(r)) {
				continue
			}
			if plan.WSRoute == nil {
				plan.WSRoute = r
			}
			if !r.WebSocketOnly {
				plan.HTTPRoute = r
				break
			}
		}
		plans = append(plans, plan)
	}
	return plans
}

func routePrefix(r *topology.Route) string {
	if r.PathPrefix == "" {
		return "/"
	}
	return r.PathPrefix
}

// RoutePlan is what requests under one path prefix do, for targets
// outside this package that, like NGINX, pick the longest matching prefix
// where wslb takes the first route in declaration order (the Gateway API).
type RoutePlan = locationPlan

// PlanRoutes is one RoutePlan per distinct prefix of routes, "/" first.
func PlanRoutes(routes []*topology.Route) []RoutePlan { return planLocations(routes) }

// HostBlocks returns the distinct hosts routes name, lower case, in order
// of first appearance.
func HostBlocks(routes []*topology.Route) []string { return hostBlocks(routes) }

// RoutesForHost returns, in order, the routes a request for host can
// match; host "" selects the routes for any host only.
func RoutesForHost(routes []*topology.Route, host string) []*topology.Route {
	return routesForHost(routes, host)
}
