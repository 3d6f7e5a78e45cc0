// Package istio is the Istio target of wslb generate: Kubernetes YAML for
// an Istio mesh, from the same topology as the HAProxy and NGINX configs.
// A Gateway holds the listeners, a VirtualService the routes, and each
// pool becomes a ServiceEntry (its servers, as endpoints) and a
// DestinationRule (affinity as consistentHash, connection limits,
// timeouts, outlier detection).
//
// Every spec is built from the Istio API's own Go types (istio.io/api), so
// no field name is spelled here; the tests decode each object into
// istio.io/client-go's type for its kind and check it against the CRD
// schemas the API ships.
// wslb cannot run Envoy on the machines it verifies with, so the target is
// ConfigOnly: generate writes it when named, validate lints it (the
// descriptor, its detector and the reader are package manifest's, which
// proxy/all registers), and the tests check it against the CRD schemas
// Istio ships.
package istio

import (
	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/istio/manifest"
)

// Kind is the target's name.
const Kind proxy.Kind = manifest.Kind

// Descriptor is Istio's entry in the proxy registry.
var Descriptor = manifest.Descriptor

func init() {
	// The generator routes a pool's kubernetes_service to the Service by
	// name: generate lets such pools through for Istio.
	Descriptor.KubernetesServices = true
	generator.Register(Kind, Generate)
}
