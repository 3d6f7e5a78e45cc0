package manifest

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/kube"
)

// Manifest is what wslb reads of one Istio or Gateway API file.
type Manifest struct {
	*kube.Manifest
	// Routes are the VirtualServices' http routes and the HTTPRoutes'
	// rules, in file order.
	Routes           []*Route
	DestinationRules []*DestinationRule
	ServiceEntries   []*ServiceEntry
	// Objects of other API groups the rules read.
	Services     []*kube.Object
	EnvoyFilters []*kube.Object
	// ClientAddress is where the file shows that the gateway sees real
	// client addresses (externalTrafficPolicy: Local, PROXY protocol,
	// trusted proxies); empty when it does not.
	ClientAddress []Evidence
}

// Evidence is something the file says, and where.
type Evidence struct {
	What string
	Line int
}

// Route is one VirtualService http route or one HTTPRoute rule.
type Route struct {
	Object *kube.Object
	// Node is the route's mapping (an entry of http or of rules).
	Node *yaml.Node
	// Name is the route's name ("" when it has none).
	Name string
	// GatewayAPI is set for an HTTPRoute rule.
	GatewayAPI bool
	// Ingress is set when the route serves a gateway (a VirtualService
	// bound to a Gateway other than "mesh", an HTTPRoute whose parent is a
	// Gateway), not only traffic inside the mesh.
	Ingress      bool
	Matches      []Match
	Destinations []Destination
	// WS says why the route carries WebSockets; nil when it does not.
	WS *proxy.Why
	// Polling says why requests that need one backend for a whole session
	// (long-polling, SockJS and SignalR transports) reach the route, WebSocket
	// or not; "" when none do.
	Polling string
}

// Describe names the route for messages: `VirtualService chat, http
// route "realtime"`.
func (r *Route) Describe() string {
	what := "http route"
	if r.GatewayAPI {
		what = "rule"
	}
	if r.Name != "" {
		what += fmt.Sprintf(" %q", r.Name)
	} else {
		what += fmt.Sprintf(" on line %d", r.Node.Line)
	}
	name := r.Object.Name
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("%s %s, %s", r.Object.Kind, name, what)
}

// Match is one of a route's alternative matches.
type Match struct {
	// Path is the matched path, prefix or regex ("" for any path).
	Path     string
	PathNode *yaml.Node
	// Upgrade is set when the match takes only WebSocket handshakes (an
	// Upgrade: websocket or Connection: upgrade header condition).
	Upgrade     bool
	UpgradeNode *yaml.Node
}

// Destination is where a route sends requests.
type Destination struct {
	// Host is the destination's host as written; Namespace the route's.
	Host, Namespace string
	Subset          string
	// HostKey and SubsetKey are the "host" (HTTPRoute: "name") and
	// "subset" keys.
	HostKey, SubsetKey *yaml.Node
}

// DestinationRule is a DestinationRule and the traffic policies in it.
type DestinationRule struct {
	Object  *kube.Object
	Host    string
	HostKey *yaml.Node
	// Subsets by name, each the subset's "name" value node.
	Subsets map[string]*yaml.Node
	// Policies are the rule's trafficPolicy mappings: its own, its
	// portLevelSettings' and its subsets'.
	Policies []*yaml.Node
}

// ServiceEntry is a ServiceEntry's hosts and how many endpoints it lists
// (-1 when it lists none: they come from a workloadSelector or DNS).
type ServiceEntry struct {
	Object    *kube.Object
	Hosts     []string
	Endpoints int
}

// Read reads the Istio, Gateway API and related core objects of a parsed
// file. websocketAll treats every route as WebSocket traffic.
func Read(km *kube.Manifest, websocketAll bool) *Manifest {
	m := &Manifest{Manifest: km}
	for _, o := range km.Objects {
		switch {
		case o.Group() == IstioGroup && o.Kind == "VirtualService":
			m.readVirtualService(o)
		case o.Group() == IstioGroup && o.Kind == "DestinationRule":
			m.readDestinationRule(o)
		case o.Group() == IstioGroup && o.Kind == "ServiceEntry":
			m.readServiceEntry(o)
		case o.Group() == IstioGroup && o.Kind == "EnvoyFilter":
			m.EnvoyFilters = append(m.EnvoyFilters, o)
			m.readEnvoyFilter(o)
		case o.Group() == GatewayAPIGroup && o.Kind == "HTTPRoute":
			m.readHTTPRoute(o)
		case o.Group() == "" && o.Kind == "Service":
			m.Services = append(m.Services, o)
			m.readService(o)
		}
		m.readAnnotations(o)
	}
	// A path that a handshake-only route of the same object matches is
	// that route's sign: its sibling without the Upgrade condition takes
	// the plain requests to that path.
	handshakes := map[*kube.Object]map[string]bool{}
	for _, r := range m.Routes {
		for _, mt := range r.Matches {
			if mt.Upgrade && mt.PathNode != nil {
				if handshakes[r.Object] == nil {
					handshakes[r.Object] = map[string]bool{}
				}
				handshakes[r.Object][mt.Path] = true
			}
		}
	}
	for _, r := range m.Routes {
		r.WS = websockets(r, websocketAll, handshakes[r.Object])
		r.Polling, _ = polling(r)
	}
	return m
}

func (m *Manifest) readVirtualService(o *kube.Object) {
	ingress := false
	for _, g := range kube.Items(kube.Get(o.Spec(), "gateways")) {
		ingress = ingress || kube.Str(g) != "mesh"
	}
	for _, h := range kube.Items(kube.Get(o.Spec(), "http")) {
		r := &Route{Object: o, Node: h, Name: kube.Str(kube.Get(h, "name")), Ingress: ingress}
		for _, mt := range kube.Items(kube.Get(h, "match")) {
			var match Match
			for _, f := range kube.Fields(kube.Get(mt, "uri")) {
				match.Path, match.PathNode = f.Value.Value, f.Key
			}
			for _, f := range kube.Fields(kube.Get(mt, "headers")) {
				for _, v := range kube.Fields(f.Value) {
					if upgradeHeader(f.Key.Value, v.Value.Value) {
						match.Upgrade, match.UpgradeNode = true, f.Key
					}
				}
			}
			r.Matches = append(r.Matches, match)
		}
		for _, rt := range kube.Items(kube.Get(h, "route")) {
			if d, ok := istioDestination(kube.Get(rt, "destination"), o.Namespace); ok {
				r.Destinations = append(r.Destinations, d)
			}
		}
		if d, ok := istioDestination(kube.Get(h, "mirror"), o.Namespace); ok {
			r.Destinations = append(r.Destinations, d)
		}
		m.Routes = append(m.Routes, r)
	}
}

func istioDestination(n *yaml.Node, ns string) (Destination, bool) {
	k, v := kube.Lookup(n, "host")
	if v == nil {
		return Destination{}, false
	}
	d := Destination{Host: kube.Str(v), Namespace: ns, HostKey: k}
	if sk, sv := kube.Lookup(n, "subset"); sv != nil {
		d.Subset, d.SubsetKey = kube.Str(sv), sk
	}
	return d, true
}

func (m *Manifest) readHTTPRoute(o *kube.Object) {
	ingress := false
	for _, p := range kube.Items(kube.Get(o.Spec(), "parentRefs")) {
		kind := kube.Str(kube.Get(p, "kind"))
		ingress = ingress || kind == "" || kind == "Gateway"
	}
	for _, rule := range kube.Items(kube.Get(o.Spec(), "rules")) {
		r := &Route{Object: o, Node: rule, Name: kube.Str(kube.Get(rule, "name")), GatewayAPI: true, Ingress: ingress}
		for _, mt := range kube.Items(kube.Get(rule, "matches")) {
			var match Match
			if k, p := kube.Lookup(mt, "path"); p != nil {
				match.Path, match.PathNode = kube.Str(kube.Get(p, "value")), k
			}
			for _, h := range kube.Items(kube.Get(mt, "headers")) {
				if upgradeHeader(kube.Str(kube.Get(h, "name")), kube.Str(kube.Get(h, "value"))) {
					match.Upgrade, match.UpgradeNode = true, h
				}
			}
			r.Matches = append(r.Matches, match)
		}
		for _, b := range kube.Items(kube.Get(rule, "backendRefs")) {
			k, name := kube.Lookup(b, "name")
			if name == nil {
				continue
			}
			d := Destination{Host: kube.Str(name), Namespace: o.Namespace, HostKey: k}
			if ns := kube.Str(kube.Get(b, "namespace")); ns != "" {
				d.Namespace = ns
			}
			if kind := kube.Str(kube.Get(b, "kind")); kind == "Hostname" {
				d.Namespace = "" // an Istio ServiceEntry host, written whole
			}
			r.Destinations = append(r.Destinations, d)
		}
		m.Routes = append(m.Routes, r)
	}
}

// upgradeHeader reports whether a header condition takes WebSocket
// handshakes: Upgrade naming websocket, or Connection naming upgrade.
func upgradeHeader(name, value string) bool {
	name, value = strings.ToLower(name), strings.ToLower(value)
	return name == "upgrade" && strings.Contains(value, "websocket") ||
		name == "connection" && strings.Contains(value, "upgrade")
}

func (m *Manifest) readDestinationRule(o *kube.Object) {
	spec := o.Spec()
	k, v := kube.Lookup(spec, "host")
	dr := &DestinationRule{Object: o, Host: kube.Str(v), HostKey: k, Subsets: map[string]*yaml.Node{}}
	addPolicy := func(tp *yaml.Node) {
		if tp = kube.Mapping(tp); tp == nil {
			return
		}
		dr.Policies = append(dr.Policies, tp)
		dr.Policies = append(dr.Policies, kube.Items(kube.Get(tp, "portLevelSettings"))...)
	}
	addPolicy(kube.Get(spec, "trafficPolicy"))
	for _, s := range kube.Items(kube.Get(spec, "subsets")) {
		if name := kube.Get(s, "name"); kube.Str(name) != "" {
			dr.Subsets[kube.Str(name)] = name
		}
		addPolicy(kube.Get(s, "trafficPolicy"))
	}
	if dr.HostKey == nil {
		dr.HostKey = o.Node
	}
	m.DestinationRules = append(m.DestinationRules, dr)
}

func (m *Manifest) readServiceEntry(o *kube.Object) {
	se := &ServiceEntry{Object: o, Endpoints: -1}
	for _, h := range kube.Items(kube.Get(o.Spec(), "hosts")) {
		se.Hosts = append(se.Hosts, kube.Str(h))
	}
	if eps := kube.Seq(kube.Get(o.Spec(), "endpoints")); eps != nil {
		se.Endpoints = len(eps.Content)
	}
	m.ServiceEntries = append(m.ServiceEntries, se)
}

func (m *Manifest) readService(o *kube.Object) {
	if k, v := kube.Lookup(o.Spec(), "externalTrafficPolicy"); kube.Str(v) == "Local" {
		m.ClientAddress = append(m.ClientAddress, Evidence{What: "Service " + o.Name + " keeps client addresses (externalTrafficPolicy: Local)", Line: k.Line})
	}
}

// proxyProtocolRe finds Envoy's PROXY protocol listener filter.
var proxyProtocolRe = regexp.MustCompile(`proxy_protocol`)

func (m *Manifest) readEnvoyFilter(o *kube.Object) {
	found := 0
	walkScalars(o.Spec(), func(n *yaml.Node) {
		if found == 0 && proxyProtocolRe.MatchString(n.Value) {
			found = n.Line
		}
	})
	if found > 0 {
		m.ClientAddress = append(m.ClientAddress, Evidence{What: "EnvoyFilter " + o.Name + " reads the PROXY protocol", Line: found})
	}
}

// readAnnotations notes the annotations that make the gateway see client
// addresses: a cloud load balancer speaking the PROXY protocol, or the
// gateway's proxy config trusting the proxies in front of it.
func (m *Manifest) readAnnotations(o *kube.Object) {
	_, own := kube.Path(o.Node, "metadata", "annotations")
	_, pods := kube.Path(o.Spec(), "template", "metadata", "annotations")
	for _, ann := range []*yaml.Node{own, pods} {
		for _, f := range kube.Fields(ann) {
			key, val := f.Key.Value, kube.Str(f.Value)
			switch {
			case strings.HasSuffix(key, "proxy-protocol") && val != "" && val != "false":
				m.ClientAddress = append(m.ClientAddress, Evidence{What: o.Kind + " " + o.Name + "'s load balancer speaks the PROXY protocol (" + key + ")", Line: f.Key.Line})
			case key == "proxy.istio.io/config" && (strings.Contains(val, "numTrustedProxies") || strings.Contains(val, "proxyProtocol")):
				m.ClientAddress = append(m.ClientAddress, Evidence{What: o.Kind + " " + o.Name + "'s gateway config trusts the proxies in front of it (proxy.istio.io/config)", Line: f.Key.Line})
			}
		}
	}
}

// walkScalars calls f with every scalar under n, aliases not followed.
func walkScalars(n *yaml.Node, f func(*yaml.Node)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		f(n)
	}
	for _, c := range n.Content {
		walkScalars(c, f)
	}
}
