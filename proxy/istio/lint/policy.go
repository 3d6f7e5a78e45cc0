package lint

import (
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/wslb/wslb/proxy/istio/manifest"
	"github.com/wslb/wslb/proxy/kube"
)

// consistentHash is a traffic policy's loadBalancer.consistentHash: its
// key and value, nils when it has none.
func consistentHash(policy *yaml.Node) (k, v *yaml.Node) {
	return kube.Path(policy, "loadBalancer", "consistentHash")
}

// hashes reports whether any of dr's policies hashes requests.
func hashes(dr *manifest.DestinationRule) bool {
	for _, pol := range dr.Policies {
		if _, v := consistentHash(pol); v != nil {
			return true
		}
	}
	return false
}

// number reads an integer field ("100", 100).
func number(n *yaml.Node) (int, bool) {
	v, err := strconv.Atoi(kube.Str(n))
	return v, err == nil
}

// webSocketRoutes are the routes to dr that carry WebSockets.
func webSocketRoutes(m *manifest.Manifest, dr *manifest.DestinationRule) []*manifest.Route {
	var out []*manifest.Route
	for _, r := range m.RoutesTo(dr) {
		if r.WS != nil {
			out = append(out, r)
		}
	}
	return out
}
