package rules

import (
	"regexp"
	"strings"

	"github.com/wslb/wslb/topology"
)

// nginxHeaderVar finds $http_NAME variables in an nginx hash key.
var nginxHeaderVar = regexp.MustCompile(`\$\{?http_([a-z0-9_]+)`)

// haproxyHeaderFetch finds header sample fetches (hdr(NAME), req.hdr(NAME),
// req.fhdr(NAME,...)) in an HAProxy balance algorithm or stick expression.
var haproxyHeaderFetch = regexp.MustCompile(`(?i)(?:^|[^a-z_.])(?:req\.)?f?hdr\(\s*([A-Za-z0-9_-]+)`)

// handshakeKeyHeader returns the first WebSocket handshake header a key
// expression reads (as written) and why it cannot pin a client.
func handshakeKeyHeader(re *regexp.Regexp, expr string, nginxVar bool) (name, why string) {
	for _, m := range re.FindAllStringSubmatch(expr, -1) {
		h := m[1]
		if nginxVar {
			h = strings.ReplaceAll(h, "_", "-")
		}
		if w, ok := topology.HandshakeHeader(h); ok {
			return m[1], w
		}
	}
	return "", ""
}
