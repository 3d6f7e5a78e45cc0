// Package all registers every proxy wslb supports; import it for its side
// effect wherever the registry is read.
package all

import (
	_ "github.com/wslb/wslb/proxy/haproxy" // registers HAProxy
	_ "github.com/wslb/wslb/proxy/nginx"   // registers NGINX
)
