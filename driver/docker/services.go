package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/netfault"
)

// maxServices bounds the service hosts of a run: .6 to .9 of its block.
const maxServices = 4

// firstService is the first service host's offset in the run's block.
const firstService = 6

var _ driver.ServiceHoster = (*Env)(nil)

// ServiceHost makes a container of the run's network that only holds an
// address and a network namespace, for a service the backends share that
// the driver does not run from an image of its own (StartBroker runs
// Redis and NATS): wslb runs it from this host's binaries in that
// namespace (RabbitMQ in its sandbox, the in-process Kafka with its
// listener made there), reached by the backends as a node of the run.
// Entering the namespace needs root, as the clients' host does.
func (e *Env) ServiceHost(name string) (*driver.ServiceHost, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, errors.New("service host: the run is closed")
	}
	k := e.services
	if k >= maxServices {
		e.mu.Unlock()
		return nil, fmt.Errorf("service host %s: a run has at most %d", name, maxServices)
	}
	e.services++
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), backendReady)
	defer cancel()
	addr := e.net.offset(firstService + k)
	label := fmt.Sprintf("service%d", k)
	id, err := e.create(ctx, node{
		name: e.net.name + "-" + label, image: e.node, role: "host", addr: addr,
		cmd: []string{"echo", "--id", label, "--listen", "127.0.0.1:1"},
	})
	if err != nil {
		return nil, fmt.Errorf("service host %s: %w", name, err)
	}
	if err := e.start(ctx, id, label); err != nil {
		return nil, fmt.Errorf("service host %s: %w", name, err)
	}
	ns, pid, err := e.containerNSPid(ctx, id, label)
	if err != nil {
		return nil, fmt.Errorf("service host %s: %w", name, err)
	}
	e.mu.Lock()
	e.serviceNS = append(e.serviceNS, ns)
	e.mu.Unlock()
	return &driver.ServiceHost{
		Addr:  addr,
		NetNS: fmt.Sprintf("/proc/%d/ns/net", pid),
		// This host reaches the run's addresses across the bridge.
		Dial: func(ctx context.Context, network, a string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, a)
		},
		Listen: func(network, a string) (net.Listener, error) { return netfault.Listen(ns, a) },
	}, nil
}

// offset is the address i places into the run's block.
func (p *netPlan) offset(i int) netip.Addr {
	a := p.subnet.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	return addr4(v + uint32(i))
}
