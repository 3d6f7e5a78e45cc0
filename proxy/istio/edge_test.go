package istio_test

import (
	"strconv"
	"testing"

	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/topology"
)

// Shapes the loader allows that no golden file has: each must still give
// objects Istio's schemas accept.
func TestEdgeTopologiesPassIstioValidation(t *testing.T) {
	edges := targettest.Edges()
	edges["names that differ in case and punctuation"] = func(t *topology.Topology) {
		t.Pools[1].Name = "Realtime"
		t.Routes[1].Pool = "Realtime"
		t.Pools[0].Servers[1].Name = "WS1"
		t.Pools[0].Servers[2].Name = "ws.1"
		t.Routes[0].Name = "Realtime"
	}
	edges["a thousand heavy servers with huge limits"] = func(t *topology.Topology) {
		p := t.Pools[0]
		p.Servers = nil
		for i := range 1000 {
			p.Servers = append(p.Servers, &topology.Server{Name: "s" + strconv.Itoa(i), Weight: 256, MaxConns: 1000000,
				Address: topology.Address{Host: "10.9." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250+1), Port: 8000 + i%3}})
		}
		t.Limits.MaxConns = 1 << 40
	}
	edges["every affinity mode without consistency"] = func(t *topology.Topology) {
		t.Pools[0].Affinity = topology.Affinity{Mode: topology.AffinityHeader, Header: "X-K", Declared: true}
		t.Pools[1].Affinity = topology.Affinity{Mode: topology.AffinityCookie, Cookie: "k", CookieMaxAge: 24 * 24 * 3600e9, Declared: true}
	}
	edges["one server, health checks off, all but one backup"] = func(t *topology.Topology) {
		t.Pools[0].Health.Enabled = false
		t.Pools[0].Servers[1].Backup = true
		t.Pools[0].Servers[2].Backup = true
		t.Pools[1].Servers = t.Pools[1].Servers[:1]
	}
	target.EdgesPassValidation(t, edges, nil)
}
