// Package all registers every proxy wslb supports; import it for its side
// effect wherever the registry is read. Istio's generator (proxy/istio)
// cannot be imported here, since the generator imports this package: the
// CLI imports it itself; Istio's descriptor and detector (package
// proxy/istio/manifest) are registered here, so every command tells its
// files apart.
package all

import (
	_ "github.com/wslb/wslb/proxy/haproxy"        // registers HAProxy
	_ "github.com/wslb/wslb/proxy/istio/manifest" // registers Istio's descriptor and detector
	_ "github.com/wslb/wslb/proxy/nginx"          // registers NGINX
)
