package rules

import "github.com/wslb/wslb/proxy/nginx"

// defaultWorkerConnections is nginx's worker_connections when unset.
const defaultWorkerConnections = 512

// workerConnections returns the configured worker_connections, or 512
// when unset.
func workerConnections(c *nginx.Config) int {
	for _, ev := range c.Top("events") {
		if d := workerConnectionsLine(ev); d != nil {
			if n, ok := nginx.ParseInt(d.Arg(0)); ok {
				return n
			}
		}
	}
	return defaultWorkerConnections
}

// workerConnectionsLine returns the events block's worker_connections
// directive (the last, when repeated), or nil.
func workerConnectionsLine(events *nginx.Node) *nginx.Node {
	wc := events.Own("worker_connections")
	if len(wc) == 0 {
		return nil
	}
	return wc[len(wc)-1]
}
