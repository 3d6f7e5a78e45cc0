package gatewayapi

import (
	"strings"

	gw "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/topology"
)

// APIVersion is the group and version of the Gateway and HTTPRoutes: the
// Gateway API's standard channel.
var APIVersion = gw.GroupVersion.String()

// GatewayClass is the class of the Gateway: Istio's.
const GatewayClass = "istio"

// Limits of an HTTPRoute in the Gateway API's CRD: at most 16 rules, and
// at most 128 matches over all of them.
const (
	maxRules   = 16
	maxMatches = 128
)

// Generate writes the topology as Gateway API resources: one YAML stream,
// in a fixed order (the Gateway, its HTTPRoutes, then each pool's
// ServiceEntry and DestinationRule in declaration order) with keys sorted,
// so the same topology always gives the same bytes.
func Generate(t *topology.Topology, _ generator.Options) ([]byte, error) {
	b := &builder{t: t, Mesh: istio.NewMesh(t), sections: map[string]gw.SectionName{}}
	objs := []istio.Object{istio.NewObject(APIVersion, "Gateway", b.Name, b.gateway())}
	for _, r := range b.httpRoutes() {
		objs = append(objs, istio.NewObject(APIVersion, "HTTPRoute", r.name, r.spec))
	}
	objs = append(objs, b.PoolObjects()...)
	return istio.Stream(istio.Header(t, "the Kubernetes Gateway API on Istio", Descriptor.ConfigName), objs)
}

type builder struct {
	t *topology.Topology
	*istio.Mesh
	// sections is each topology listener's listener of the Gateway.
	sections map[string]gw.SectionName
}

// gateway has one listener per port. The gateway pods listen on every
// address: listeners that differ only by address are one listener of the
// Gateway, the first one's. TLS terminates with a certificate from a
// Kubernetes Secret: the Gateway API cannot name files.
func (b *builder) gateway() *gw.GatewaySpec {
	g := &gw.GatewaySpec{GatewayClassName: GatewayClass}
	names := istio.NewNames()
	byPort := map[int]gw.SectionName{}
	for _, l := range b.t.Listeners {
		if s, ok := byPort[l.Address.Port]; ok {
			b.sections[l.Name] = s
			continue
		}
		s := gw.SectionName(names.Get(l.Name))
		byPort[l.Address.Port], b.sections[l.Name] = s, s
		gl := gw.Listener{Name: s, Port: gw.PortNumber(l.Address.Port), Protocol: gw.HTTPProtocolType}
		if l.TLS != nil {
			gl.Protocol = gw.HTTPSProtocolType
			gl.TLS = &gw.ListenerTLSConfig{
				Mode:            ptr(gw.TLSModeTerminate),
				CertificateRefs: []gw.SecretObjectReference{{Name: gw.ObjectName(SecretName(b.t, l))}},
			}
		}
		g.Listeners = append(g.Listeners, gl)
	}
	return g
}

// SecretName is the Kubernetes TLS Secret the Gateway takes a TLS
// listener's certificate and key from.
func SecretName(t *topology.Topology, l *topology.Listener) string {
	return istio.Label(t.Name+"-"+l.Name) + "-tls"
}

type httpRoute struct {
	name string
	spec *gw.HTTPRouteSpec
}

// httpRoutes turn wslb's routes, tried in declaration order, into
// HTTPRoutes, where the Gateway API picks the most specific match (the
// exact host, then the longest path, then the most headers): each host
// named by a route gets an HTTPRoute of its own holding the routes for
// any host too, and within each, every distinct path prefix gets the
// rules of the first route that covers it (for WebSocket handshakes and
// for other requests), as generator.PlanRoutes computes for NGINX's
// longest-prefix locations. Routes restricted to a listener put every
// HTTPRoute on each listener of the Gateway separately.
func (b *builder) httpRoutes() []httpRoute {
	type parent struct {
		section gw.SectionName
		routes  []*topology.Route
	}
	parents := []parent{{routes: b.t.Routes}}
	if restricted(b.t) {
		parents = nil
		seen := map[gw.SectionName]bool{}
		for _, l := range b.t.Listeners {
			s := b.sections[l.Name]
			if seen[s] {
				continue
			}
			seen[s] = true
			var rs []*topology.Route
			for _, r := range b.t.Routes {
				if r.Listener == "" || b.sections[r.Listener] == s {
					rs = append(rs, r)
				}
			}
			parents = append(parents, parent{section: s, routes: rs})
		}
	}
	var out []httpRoute
	names := istio.NewNames()
	for _, p := range parents {
		ref := gw.ParentReference{Name: gw.ObjectName(b.Name)}
		base := b.Name
		if p.section != "" {
			ref.SectionName = ptr(p.section)
			base += "-" + string(p.section)
		}
		for _, host := range append(generator.HostBlocks(p.routes), "") {
			var spec *gw.HTTPRouteSpec
			var ruleNames *istio.Names
			matches := 0
			name := base
			if host != "" {
				name += "-" + host
			}
			plans := generator.PlanRoutes(generator.RoutesForHost(p.routes, host))
			for _, plan := range plans {
				rules := b.rules(plan, parentRoute(plans, plan.Prefix))
				n := 0
				for _, r := range rules {
					n += len(r.Matches)
				}
				if len(rules) == 0 {
					continue
				}
				// A plan's rules stay in one HTTPRoute: they tie on path
				// and are told apart by their order there.
				if spec == nil || len(spec.Rules)+len(rules) > maxRules || matches+n > maxMatches {
					spec = &gw.HTTPRouteSpec{CommonRouteSpec: gw.CommonRouteSpec{ParentRefs: []gw.ParentReference{ref}}}
					if host != "" {
						spec.Hostnames = []gw.Hostname{gw.Hostname(host)}
					}
					out = append(out, httpRoute{name: names.Get(name), spec: spec})
					matches, ruleNames = 0, istio.NewNames()
				}
				for _, r := range rules {
					if r.Name != nil {
						// Rule names are unique within a route.
						r.Name = ptr(gw.SectionName(ruleNames.Get(string(*r.Name))))
					}
					spec.Rules = append(spec.Rules, r)
				}
				matches += n
			}
		}
	}
	return out
}

// restricted reports whether a route names a listener.
func restricted(t *topology.Topology) bool {
	for _, r := range t.Routes {
		if r.Listener != "" {
			return true
		}
	}
	return false
}

// rules are what requests under one path prefix do: WebSocket handshakes
// (told apart by an Upgrade header match, which the Gateway API ranks
// above a match without headers on the same path) go to the first route
// for handshakes, the rest to the first route for other requests.
//
// Other requests under the prefix get no rule of their own when the
// rule of the prefix above it (parent) sends them to the same route.
func (b *builder) rules(plan generator.RoutePlan, parent *topology.Route) []gw.HTTPRouteRule {
	var out []gw.HTTPRouteRule
	path := &gw.HTTPPathMatch{Type: ptr(gw.PathMatchPathPrefix), Value: ptr(plan.Prefix)}
	if ws := plan.WSRoute; ws != nil && (ws != plan.HTTPRoute || b.originCheck(ws)) {
		out = append(out, b.handshakeRules(path, ws)...)
	}
	if r := plan.HTTPRoute; r != nil && r != parent {
		out = append(out, b.forward(r, gw.HTTPRouteMatch{Path: path}))
	}
	return out
}

// parentRoute is the route other requests under prefix reach by the
// longest other plan whose prefix covers prefix as the Gateway API
// compares paths, whole segments; nil when none does.
func parentRoute(plans []generator.RoutePlan, prefix string) *topology.Route {
	var best *generator.RoutePlan
	for i, q := range plans {
		if q.Prefix == prefix || !segmentPrefix(q.Prefix, prefix) {
			continue
		}
		if best == nil || len(q.Prefix) > len(best.Prefix) {
			best = &plans[i]
		}
	}
	if best == nil {
		return nil
	}
	return best.HTTPRoute
}

// segmentPrefix reports whether the PathPrefix q matches every path under
// p: q is "/" or a prefix of p ending at a segment boundary.
func segmentPrefix(q, p string) bool {
	if q == "/" {
		return true
	}
	return strings.HasPrefix(p, q) && (strings.HasSuffix(q, "/") || p[len(q)] == '/')
}

// originCheck reports whether handshakes on r must carry an allowed
// Origin.
func (b *builder) originCheck(r *topology.Route) bool {
	p := b.t.Pool(r.Pool)
	return p != nil && p.WebSocket && len(b.t.Security.AllowedOrigins) > 0
}

var upgrade = gw.HTTPHeaderMatch{Type: ptr(gw.HeaderMatchRegularExpression), Name: "Upgrade", Value: istio.UpgradeRegex}

// handshakeRules send WebSocket handshakes under path to r's pool. With an
// Origin allowlist, as HAProxy's and NGINX's Origin check: handshakes
// with an allowed Origin first, then every other handshake with an Origin
// to a rule without a backend (which the Gateway API answers with an
// error: it has no direct response), then handshakes without one, which
// allow_missing_origin lets through. The Gateway API ranks matches with
// more headers first and breaks ties by rule order.
func (b *builder) handshakeRules(path *gw.HTTPPathMatch, r *topology.Route) []gw.HTTPRouteRule {
	if !b.originCheck(r) {
		return []gw.HTTPRouteRule{b.forward(r, gw.HTTPRouteMatch{Path: path, Headers: []gw.HTTPHeaderMatch{upgrade}})}
	}
	var allowed []gw.HTTPRouteMatch
	for _, re := range istio.OriginRegexes(b.t.Security.AllowedOrigins) {
		origin := gw.HTTPHeaderMatch{Type: ptr(gw.HeaderMatchRegularExpression), Name: "Origin", Value: re}
		allowed = append(allowed, gw.HTTPRouteMatch{Path: path, Headers: []gw.HTTPHeaderMatch{upgrade, origin}})
	}
	anyOrigin := gw.HTTPHeaderMatch{Type: ptr(gw.HeaderMatchRegularExpression), Name: "Origin", Value: ".*"}
	out := []gw.HTTPRouteRule{
		b.forward(r, allowed...),
		{Name: ptr(gw.SectionName("origin-refused")), Matches: []gw.HTTPRouteMatch{{Path: path, Headers: []gw.HTTPHeaderMatch{upgrade, anyOrigin}}}},
	}
	if !b.t.Security.AllowMissingOrigin {
		// A handshake without Origin is refused too.
		out[1].Matches = append(out[1].Matches, gw.HTTPRouteMatch{Path: path, Headers: []gw.HTTPHeaderMatch{upgrade}})
		return out
	}
	return append(out, b.forward(r, gw.HTTPRouteMatch{Path: path, Headers: []gw.HTTPHeaderMatch{upgrade}}))
}

// forward is a rule sending the matches to r's pool: its ServiceEntry
// host, which Istio takes as a backend of kind Hostname, or its
// Kubernetes Service. A rule to a
// WebSocket pool has its request timeout off ("0s"): a request timeout
// bounds the whole exchange, and a WebSocket's lasts as long as the
// socket.
func (b *builder) forward(r *topology.Route, matches ...gw.HTTPRouteMatch) gw.HTTPRouteRule {
	pn, p := b.Pool(r.Pool), b.t.Pool(r.Pool)
	ref := gw.BackendObjectReference{
		Group: ptr(gw.Group("networking.istio.io")),
		Kind:  ptr(gw.Kind("Hostname")),
		Name:  gw.ObjectName(pn.Host),
		Port:  ptr(gw.PortNumber(pn.Port)),
	}
	if p != nil && p.Service != nil {
		ref = gw.BackendObjectReference{
			Name:      gw.ObjectName(p.Service.Name),
			Namespace: ptr(gw.Namespace(p.Service.Namespace)),
			Port:      ptr(gw.PortNumber(p.Service.Port)),
		}
	}
	rule := gw.HTTPRouteRule{
		Matches:     matches,
		BackendRefs: []gw.HTTPBackendRef{{BackendRef: gw.BackendRef{BackendObjectReference: ref}}},
	}
	if p != nil && p.WebSocket {
		rule.Timeouts = &gw.HTTPRouteTimeouts{Request: ptr(gw.Duration("0s"))}
	}
	return rule
}

func ptr[T any](v T) *T { return &v }
