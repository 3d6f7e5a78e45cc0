package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/validate/finding"
)

func init() {
	register(&Rule{
		Rule: finding.Rule{
			ID: "WSLB223", Slug: "haproxy-timeout-absurd", Severity: finding.Warning,
			Title:     "A timeout that cannot be what was meant",
			Rationale: "timeout connect above a minute holds every handshake to a dead server that long before HAProxy retries or gives up, so clients see minute-long hangs instead of a failover. A timeout client/server/connect/tunnel written without a unit is in milliseconds: 'timeout server 30' cuts every response after 30 ms.",
			Fix:       "timeout connect 5s; write units on every timeout (30s, 1h)",
		},
		Proxy:   "haproxy",
		HAProxy: checkAbsurdTimeouts,
	})
}

const maxConnectTimeout = time.Minute

func checkAbsurdTimeouts(p *HAProxyPass) {
	for _, s := range p.Config.Sections {
		if !s.IsProxy() && s.Type != "defaults" {
			continue
		}
		for _, d := range s.Own("timeout") {
			name, raw := d.Arg(0), d.Arg(1)
			switch name {
			case "connect", "client", "server", "tunnel":
			default:
				continue
			}
			v, err := haproxy.ParseDuration(raw)
			if err != nil {
				continue
			}
			if strings.Trim(raw, "0123456789") == "" && v < time.Second && v > 0 {
				p.ReportArg(d, 1, fmt.Sprintf("timeout %s %s has no unit, so it means %s; write %ss if seconds were meant", name, raw, v, raw), "")
				continue
			}
			if name == "connect" && v > maxConnectTimeout {
				p.ReportArg(d, 1, fmt.Sprintf("timeout connect %s holds each handshake to a dead server that long before a retry or failover; a few seconds is enough on a LAN", raw), "")
			}
		}
	}
}
