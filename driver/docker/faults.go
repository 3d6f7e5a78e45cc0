package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver"
)

// supported are the faults this driver injects: pause (docker pause of
// the backend's process) and down (its host disconnected from the run's
// network, reconnected on the same address).
var supported = map[driver.FaultKind]bool{
	driver.FaultPause: true,
	driver.FaultDown:  true,
}

// Check says whether the driver can run a run with needs: wslb's echo
// backends only, and the faults it supports. Whether an engine answers
// is Open's to say (exit 4, naming how to start one).
func Check(needs driver.Needs) error {
	if needs.ForeignServers {
		return errors.New("runs wslb's plain echo backends only; --backend-cmd and brokers need --driver loopback")
	}
	for _, f := range needs.Faults {
		if !supported[f.Kind] {
			return driver.FaultNotSupported(Name, f)
		}
	}
	return nil
}

// Fault injects f on its backend and returns what lifts it.
func (e *Env) Fault(ctx context.Context, f driver.Fault) (driver.Undo, error) {
	e.mu.Lock()
	b := e.backends
	e.mu.Unlock()
	if b == nil || !supported[f.Kind] {
		return nil, driver.FaultNotSupported(Name, f)
	}
	be, err := b.lookup(f.Backend)
	if err != nil {
		return nil, err
	}
	switch f.Kind {
	case driver.FaultPause:
		if err := b.Pause(ctx, f.Backend); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error { return b.Resume(ctx, f.Backend) }, nil
	case driver.FaultDown:
		if _, err := e.cli.NetworkDisconnect(ctx, e.net.id, client.NetworkDisconnectOptions{Container: be.host, Force: true}); err != nil {
			return nil, fmt.Errorf("docker: link down %s: %w", f.Backend, err)
		}
		return func(ctx context.Context) error {
			_, err := e.cli.NetworkConnect(ctx, e.net.id, client.NetworkConnectOptions{
				Container:      be.host,
				EndpointConfig: &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: be.addr.Addr()}},
			})
			if err != nil {
				return fmt.Errorf("docker: link up %s: %w", f.Backend, err)
			}
			return nil
		}, nil
	}
	return nil, driver.FaultNotSupported(Name, f)
}
