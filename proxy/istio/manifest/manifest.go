// Package manifest reads Istio and Kubernetes Gateway API manifests for
// wslb: it registers Istio in the proxy registry with the detector every
// command shares (a file is Istio's when its objects are of
// networking.istio.io or gateway.networking.k8s.io), and reads a file's
// routes (VirtualService http routes, HTTPRoute rules), DestinationRules,
// ServiceEntries and Services with their positions, and which routes
// carry WebSockets. validate's Istio rules (package proxy/istio/lint) and
// the generator's tests read manifests through it.
//
// wslb cannot run Envoy here, so the descriptor is ConfigOnly: generate
// writes Istio YAML when it is named, validate lints it, verify refuses it.
package manifest

import (
	"path/filepath"
	"strings"

	"github.com/wslb/wslb/proxy"
)

// Kind is Istio's name in the registry.
const Kind proxy.Kind = "istio"

// Descriptor is Istio's entry in the proxy registry. proxy/istio adds its
// generator.
var Descriptor = &proxy.Descriptor{
	Name:       Kind,
	Title:      "Istio",
	ConfigName: "istio.yaml",
	Detect:     Detect,
	ConfigOnly: true,
}

func init() { proxy.Register(Descriptor) }

// API groups whose objects make a file Istio's.
const (
	IstioGroup      = "networking.istio.io"
	GatewayAPIGroup = "gateway.networking.k8s.io"
)

// Detect weighs how much a file reads as Istio or Gateway API YAML: an
// apiVersion line of either group weighs ten lines, and once there is one,
// every other line counts too (YAML keys are not another proxy's
// directives). The extensions .yaml and .yml are a hint, "istio" in the
// file name a stronger one.
func Detect(path string, content []byte) proxy.Evidence {
	weight, objects := 0, 0
	proxy.Lines(content, func(line string) {
		v, ok := strings.CutPrefix(line, "apiVersion:")
		if !ok {
			weight++
			return
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		if strings.HasPrefix(v, IstioGroup+"/") || strings.HasPrefix(v, GatewayAPIGroup+"/") {
			weight += 10
			objects++
		}
	})
	if objects == 0 {
		weight = 0
	}
	name := proxy.NameHint(path, "istio", ".yaml")
	if name < 2 && strings.ToLower(filepath.Ext(path)) == ".yml" {
		name = 2
	}
	return proxy.Evidence{Content: weight, Name: name}
}
