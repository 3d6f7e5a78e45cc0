package manifest

import "strings"

// fqdn is how Istio reads a host written in a rule of namespace ns: a
// short name ("reviews") is a Service of that namespace
// ("reviews.ns.svc.cluster.local"); "*" stands for a namespace the file
// does not say.
func fqdn(host, ns string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if strings.Contains(host, ".") || host == "*" || host == "" {
		return host
	}
	if ns == "" {
		ns = "*"
	}
	return host + "." + strings.ToLower(ns) + ".svc.cluster.local"
}

// SameHost reports whether host a, written in namespace aNS, and host b,
// written in bNS, can name the same service: equal once short names are
// made whole, a "*." wildcard covering the other, an unknown namespace
// matching any.
func SameHost(a, aNS, b, bNS string) bool {
	fa, fb := fqdn(a, aNS), fqdn(b, bNS)
	return hostMatch(fa, fb) || hostMatch(fb, fa)
}

func hostMatch(pattern, host string) bool {
	if pattern == "*" || pattern == host {
		return true
	}
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok && strings.HasSuffix(host, suffix) {
		return true
	}
	// An unknown namespace ("name.*.svc.cluster.local") matches any.
	if name, rest, ok := strings.Cut(pattern, ".*."); ok {
		hn, hrest, ok := strings.Cut(host, ".")
		if _, hsuffix, ok2 := strings.Cut(hrest, "."); ok && ok2 && hn == name && hsuffix == rest {
			return true
		}
	}
	return false
}

// RulesFor are the DestinationRules whose host names d's.
func (m *Manifest) RulesFor(d Destination) []*DestinationRule {
	var out []*DestinationRule
	for _, dr := range m.DestinationRules {
		if SameHost(dr.Host, dr.Object.Namespace, d.Host, d.Namespace) {
			out = append(out, dr)
		}
	}
	return out
}

// RoutesTo are the routes with a destination dr's host names.
func (m *Manifest) RoutesTo(dr *DestinationRule) []*Route {
	var out []*Route
	for _, r := range m.Routes {
		for _, d := range r.Destinations {
			if SameHost(dr.Host, dr.Object.Namespace, d.Host, d.Namespace) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Endpoints is the number of endpoints the file's ServiceEntries give
// dr's host, -1 when the file does not tell.
func (m *Manifest) Endpoints(dr *DestinationRule) int {
	for _, se := range m.ServiceEntries {
		for _, h := range se.Hosts {
			if SameHost(h, se.Object.Namespace, dr.Host, dr.Object.Namespace) && se.Endpoints >= 0 {
				return se.Endpoints
			}
		}
	}
	return -1
}
