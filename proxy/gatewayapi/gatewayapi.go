// Package gatewayapi is the Kubernetes Gateway API target of wslb
// generate: a Gateway for the listeners and HTTPRoutes for the routes,
// built from the Gateway API's own Go types (sigs.k8s.io/gateway-api), with
// Istio's DestinationRule for the consistent hashing, limits and outlier
// detection the Gateway API has no fields for, and a ServiceEntry for
// each pool of servers given as addresses. Those pool resources are
// proxy/istio's, written by the same code.
//
// Like Istio, the target is ConfigOnly: Envoy cannot run on the machines
// wslb verifies with, so the tests check the YAML against the CRD schemas
// the Gateway API and Istio ship instead.
package gatewayapi

import (
	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
)

// Kind is the target's name.
const Kind proxy.Kind = "gateway-api"

// Descriptor is the Gateway API's entry in the proxy registry.
var Descriptor = &proxy.Descriptor{
	Name:       Kind,
	Title:      "Gateway API",
	ConfigName: "gateway-api.yaml",
	ConfigOnly: true,
	// A pool's kubernetes_service is a host of the mesh.
	KubernetesServices: true,
}

func init() {
	proxy.Register(Descriptor)
	generator.Register(Kind, Generate)
}
