package lint

import (
	"fmt"

	"github.com/wslb/wslb/proxy/kube"
	"github.com/wslb/wslb/validate/finding"
)

// RouteTimeoutID: a WebSocket route with a route timeout.
const RouteTimeoutID = "WSLB300"

func init() {
	register(finding.Rule{
		ID: RouteTimeoutID, Slug: "istio-websocket-route-timeout", Severity: finding.Warning,
		Title:     "A WebSocket route has a route timeout",
		Rationale: "Istio sets no route timeout by default, because Envoy's route timeout bounds a whole request and a WebSocket is one request for as long as it lives: on the Envoy releases Istio has shipped for years, a VirtualService timeout (an HTTPRoute's timeouts.request or backendRequest) closes every socket that outlives it, busy or not. Envoy since late 2025 applies it to the handshake only.",
		Fix:       "Remove the timeout from the WebSocket route (or set it to 0s) and bound quiet sockets with the DestinationRule's connectionPool idleTimeout instead; keep the timeout on a separate route for plain HTTP",
	}, checkRouteTimeout)
}

func checkRouteTimeout(p *pass) {
	for _, r := range p.m.Routes {
		if r.WS == nil {
			continue
		}
		var keys [][]string
		if r.GatewayAPI {
			keys = [][]string{{"timeouts", "request"}, {"timeouts", "backendRequest"}}
		} else {
			keys = [][]string{{"timeout"}}
		}
		for _, path := range keys {
			k, v := kube.Path(r.Node, path...)
			if v == nil {
				continue
			}
			if d, ok := duration(v); ok && d == 0 {
				continue // 0s disables it
			}
			p.at(k, fmt.Sprintf("%s, and its %s %s closes every socket that lives longer, however busy", carries(r), k.Value, kube.Str(v)), "")
		}
	}
}
