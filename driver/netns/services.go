package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/wslb/wslb/driver"
)

// maxServices bounds the service hosts of a run (198.18.253.1 up).
const maxServices = 16

func serviceAddr(k int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 253, byte(k + 1)}) }

var _ driver.ServiceHoster = (*Env)(nil)

// ServiceHost plugs a host of its own into the run's bridge for a service
// the backends share (a message broker, the user's Redis): the backends
// reach it across the bridge, as they would a broker of their own
// network. name only labels it in errors.
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
	addr := serviceAddr(k)
	h, err := e.plug(fmt.Sprintf("s%d", k), addr)
	if err != nil {
		return nil, fmt.Errorf("service host %s: %w", name, err)
	}
	return &driver.ServiceHost{
		Addr:  addr,
		NetNS: h.path(),
		Dial: func(ctx context.Context, network, a string) (net.Conn, error) {
			return h.dial(ctx, &net.Dialer{}, network, a)
		},
		Listen: func(network, a string) (net.Listener, error) {
			var ln net.Listener
			var lerr error
			if err := h.run(func() { ln, lerr = net.Listen(network, a) }); err != nil {
				return nil, err
			}
			return ln, lerr
		},
	}, nil
}
