package lint

import (
	"fmt"

	"github.com/wslb/wslb/proxy/kube"
	"github.com/wslb/wslb/validate/finding"
)

// CookieTTLID: consistentHash.httpCookie without ttl.
const CookieTTLID = "WSLB301"

func init() {
	register(finding.Rule{
		ID: CookieTTLID, Slug: "istio-http-cookie-without-ttl", Severity: finding.Warning,
		Title:     "consistentHash.httpCookie has no ttl: Envoy never sets the cookie",
		Rationale: "Envoy generates the affinity cookie only when httpCookie has a ttl (0s for a session cookie). Without one it hashes a cookie nobody sets: every client without it is hashed on nothing and spread like round robin, so Socket.IO polling and reconnects land on other pods.",
		Fix:       "Add ttl to httpCookie (ttl: 0s for a session cookie, or the session's lifetime), unless the application sets that cookie itself",
	}, checkCookieTTL)
}

func checkCookieTTL(p *pass) {
	for _, dr := range p.m.DestinationRules {
		for _, pol := range dr.Policies {
			_, ch := consistentHash(pol)
			k, cookie := kube.Lookup(ch, "httpCookie")
			if cookie == nil {
				continue
			}
			if _, ttl := kube.Lookup(cookie, "ttl"); ttl != nil {
				continue
			}
			name := kube.Str(kube.Get(cookie, "name"))
			p.at(k, fmt.Sprintf("DestinationRule %s hashes cookie %q, which has no ttl: Envoy never sets it, so clients without it are not kept on one pod", dr.Object.Name, name), "")
		}
	}
}
