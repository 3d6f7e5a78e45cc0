package netns

import (
	"context"
	"fmt"

	"github.com/vishvananda/netlink"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/netfault"
)

// supported are the faults this driver injects.
var supported = map[driver.FaultKind]bool{
	driver.FaultLoss:      true,
	driver.FaultRate:      true,
	driver.FaultDown:      true,
	driver.FaultPause:     true,
	driver.FaultPartition: true,
	driver.FaultDelay:     true,
}

// Fault injects f on its backend's host and returns what lifts it. Every
// change is made inside the run's namespaces: nftables rules and queueing
// disciplines in the backend's host (and its end of the switch), the
// link's state, the backend process's signals.
func (e *Env) Fault(ctx context.Context, f driver.Fault) (driver.Undo, error) {
	e.mu.Lock()
	b := e.backends
	e.mu.Unlock()
	if b == nil {
		return nil, fmt.Errorf("fault %s: no backends run yet", f)
	}
	s, err := b.get(f.Backend)
	if err != nil {
		return nil, fmt.Errorf("fault %s: %w", f, err)
	}
	ns := s.host.faultNS()
	var undo driver.Undo
	switch f.Kind {
	case driver.FaultPause:
		if err = b.Pause(ctx, f.Backend); err == nil {
			undo = func(ctx context.Context) error { return b.Resume(ctx, f.Backend) }
		}
	case driver.FaultLoss:
		undo, err = netfault.Drop(ns, "wslb_loss", netfault.Loss(f.Percent))
	case driver.FaultPartition:
		undo, err = netfault.Drop(ns, "wslb_partition", netfault.Peer(proxyAddr))
	case driver.FaultDown:
		undo, err = linkDown(s.host)
	case driver.FaultRate:
		// Both ends of the backend's link: its eth0 and the switch's.
		undo, err = netfault.Rate([]netfault.Link{{NS: ns, Name: "eth0"}, {NS: e.sw.faultNS(), Name: "v-" + nodeOf(s.host.name)}}, f.Rate)
	case driver.FaultDelay:
		undo, err = netfault.Delay(ns, s.addr, proxyAddr, f.Delay)
	default:
		return nil, driver.FaultNotSupported(Name, f)
	}
	if err != nil {
		return nil, fmt.Errorf("fault %s: %w", f, err)
	}
	return e.faults.Hold(undo), nil
}

// linkDown takes the host's eth0 down.
func linkDown(h *host) (driver.Undo, error) {
	set := func(up bool) error {
		return h.netlink(func(nl *netlink.Handle) error {
			l, err := nl.LinkByName("eth0")
			if err != nil {
				return err
			}
			if up {
				return nl.LinkSetUp(l)
			}
			return nl.LinkSetDown(l)
		})
	}
	if err := set(false); err != nil {
		return nil, err
	}
	return func(context.Context) error { return set(true) }, nil
}

// nodeOf is the node part of a host's name (PREFIX-b0 → b0).
func nodeOf(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '-' {
			return name[i+1:]
		}
	}
	return name
}
