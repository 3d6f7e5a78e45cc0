// Package all registers every proxy wslb supports; import it for its side
// effect wherever the registry is read. Config-only targets built on the
// generator (proxy/istio) cannot be imported here, since the generator
// imports this package: the CLI imports them itself.
package all

import (
	_ "github.com/wslb/wslb/proxy/haproxy" // registers HAProxy
	_ "github.com/wslb/wslb/proxy/nginx"   // registers NGINX
)
