package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB103", Slug: "nginx-hardcoded-connection-upgrade", Severity: finding.Warning,
			Title:     `Connection is hard-coded to "upgrade"`,
			Rationale: `Sending "Connection: upgrade" on every request, including plain HTTP ones, asks the backend to upgrade requests that are not WebSocket handshakes and stops upstream keep-alive; some servers answer 400.`,
			Fix:       "map $http_upgrade $connection_upgrade { default upgrade; '' close; } then proxy_set_header Connection $connection_upgrade;",
		},
		Proxy: "nginx",
		Nginx: checkHardcodedConnection,
	})
}

func checkHardcodedConnection(p *NginxPass) {
	for _, h := range p.Config.All("proxy_set_header") {
		if !strings.EqualFold(h.Arg(0), "connection") || !strings.EqualFold(strings.TrimSpace(h.Arg(1)), "upgrade") {
			continue
		}
		if onlyHandshakes(p.WS, h.Parent) {
			continue
		}
		msg := `proxy_set_header Connection is hard-coded to "upgrade"; plain HTTP requests through this block are sent as upgrade requests too and lose upstream keep-alive`
		if up := siblingHeader(h, "upgrade"); up != nil && !strings.Contains(up.Arg(1), "$") {
			msg = fmt.Sprintf(`proxy_set_header Connection is hard-coded to "upgrade" and Upgrade to %q (line %d): every request through this block, plain HTTP too, reaches the backend as a WebSocket handshake`, up.Arg(1), up.Line)
		}
		p.Report(h, msg, "")
	}
}

// siblingHeader returns the proxy_set_header for name set next to h.
func siblingHeader(h *nginx.Node, name string) *nginx.Node {
	if h.Parent == nil {
		return nil
	}
	for _, x := range h.Parent.Own("proxy_set_header") {
		if strings.EqualFold(x.Arg(0), name) {
			return x
		}
	}
	return nil
}

// onlyHandshakes reports whether a location is a WebSocket-only endpoint
// (a well-known WebSocket path of no long-polling stack), where a
// hard-coded Connection: upgrade meets no plain request. Plain locations
// sharing its upstream do not matter here: their requests do not pass
// through this block.
func onlyHandshakes(ws *nginx.WebSockets, blk *nginx.Node) bool {
	if !ws.Serves(blk) || blk.Name != "location" || proxy.PollingPath(nginx.LocationText(blk)) {
		return false
	}
	path := nginx.LastArg(blk)
	return proxy.IsWebSocketPath(path) || proxy.IsPureWebSocketPath(path) || nginx.RegexNamesWebSocketPath(blk)
}
