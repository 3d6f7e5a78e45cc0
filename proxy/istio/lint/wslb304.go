package lint

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wslb/wslb/proxy/kube"
	"github.com/wslb/wslb/validate/finding"
)

// IdleTimeoutID: a WebSocket destination's idleTimeout below the ping
// interval, or above the gateway's stream idle timeout.
const IdleTimeoutID = "WSLB304"

func init() {
	register(finding.Rule{
		ID: IdleTimeoutID, Slug: "istio-websocket-idle-timeout", Severity: finding.Warning,
		Title:     "A WebSocket destination's idleTimeout is below the idle threshold or above the gateway's stream idle timeout",
		Rationale: "A connection pool's idleTimeout closes upstream connections that carry nothing for that long: below the interval at which the application pings (--min-idle-timeout, 120s), quiet WebSockets are closed and reconnect. Above the gateway's own stream idle timeout (an EnvoyFilter's stream_idle_timeout) it promises more than the gateway keeps: the gateway cuts quiet sockets first, and that timeout below the threshold cuts them whatever the pool says.",
		Fix:       "Set connectionPool.http.idleTimeout (and tcp.idleTimeout) to at least the idle time sockets must survive, e.g. 3600s, and keep the gateway's stream_idle_timeout at least as long (or 0s, none)",
	}, checkIdleTimeout)
}

// gatewayIdle is the shortest stream idle timeout an EnvoyFilter of the
// file sets, and its key; nil when none does.
func gatewayIdle(p *pass) (time.Duration, *yaml.Node) {
	var best time.Duration
	var at *yaml.Node
	for _, ef := range p.m.EnvoyFilters {
		findKey(ef.Spec(), "stream_idle_timeout", func(k, v *yaml.Node) {
			if d, ok := duration(v); ok && d > 0 && (at == nil || d < best) {
				best, at = d, k
			}
		})
	}
	return best, at
}

// findKey calls f with every key named key under n and its value.
func findKey(n *yaml.Node, key string, f func(k, v *yaml.Node)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				f(n.Content[i], n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		findKey(c, key, f)
	}
}

func checkIdleTimeout(p *pass) {
	minIdle := p.Opts.MinIdleTimeout
	if minIdle <= 0 {
		minIdle = 120 * time.Second
	}
	gw, gwKey := gatewayIdle(p)
	anyWS := false
	for _, dr := range p.m.DestinationRules {
		ws := webSocketRoutes(p.m, dr)
		if len(ws) == 0 {
			continue
		}
		anyWS = true
		for _, pol := range dr.Policies {
			for _, path := range [][]string{{"connectionPool", "http", "idleTimeout"}, {"connectionPool", "tcp", "idleTimeout"}} {
				k, v := kube.Path(pol, path...)
				d, ok := duration(v)
				if !ok || d == 0 {
					continue
				}
				switch {
				case d < minIdle:
					p.at(k, fmt.Sprintf("DestinationRule %s: idleTimeout %s closes quiet WebSockets unless the application pings more often (the threshold is %s); %s", dr.Object.Name, kube.Str(v), short(minIdle), carries(ws[0])), "")
				case gwKey != nil && d > gw:
					p.at(k, fmt.Sprintf("DestinationRule %s: idleTimeout %s is above the gateway's stream_idle_timeout %s (line %d), which closes quiet WebSockets first", dr.Object.Name, kube.Str(v), short(gw), gwKey.Line), "")
				}
			}
		}
	}
	if anyWS && gwKey != nil && gw < minIdle {
		p.at(gwKey, fmt.Sprintf("the gateway's stream_idle_timeout %s closes quiet WebSockets unless the application pings more often (the threshold is %s)", short(gw), short(minIdle)), "")
	}
}
