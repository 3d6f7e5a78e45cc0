package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/netfault"
)

// supported are the faults this driver injects: pause (docker pause of
// the backend's process), down (its host disconnected from the run's
// network, reconnected on the same address), and, as the netns driver
// makes them (netfault), loss, partition, rate and delay inside the
// backend's network namespace, entered from this host by its process
// (/proc/PID/ns/net; root on the engine's host).
var supported = map[driver.FaultKind]bool{
	driver.FaultPause:     true,
	driver.FaultDown:      true,
	driver.FaultLoss:      true,
	driver.FaultPartition: true,
	driver.FaultRate:      true,
	driver.FaultDelay:     true,
}

// Check says whether the driver can run a run with needs: wslb's echo
// backends, alone or joined to a broker it runs (checkBroker), or the
// user's --backend-cmd, and the faults it supports. Whether an engine
// answers is Open's to say (exit 4, naming how to start one).
func Check(needs driver.Needs) error {
	if needs.ExternalBroker {
		return errors.New("its containers reach no broker outside the run's network: let verify start one (--broker-start KIND, or the topology's broker block), or use --driver loopback")
	}
	if needs.Broker {
		if err := checkBroker(needs.BrokerKind); err != nil {
			return err
		}
	}
	for _, f := range needs.Faults {
		if !supported[f.Kind] {
			return driver.FaultNotSupported(Name, f)
		}
	}
	return nil
}

// Fault injects f on its backend and returns what lifts it. Close lifts
// whatever is still on before it removes the containers.
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
	var undo driver.Undo
	switch f.Kind {
	case driver.FaultPause:
		if err = b.Pause(ctx, f.Backend); err == nil {
			undo = func(ctx context.Context) error { return b.Resume(ctx, f.Backend) }
		}
	case driver.FaultDown:
		undo, err = e.linkDown(ctx, be)
	default:
		undo, err = e.nsFault(ctx, be, f)
	}
	if err != nil {
		return nil, fmt.Errorf("fault %s: %w", f, err)
	}
	return e.faults.Hold(undo), nil
}

// linkDown disconnects the backend's host from the run's network; undo
// connects it again on its address.
func (e *Env) linkDown(ctx context.Context, be *backend) (driver.Undo, error) {
	if _, err := e.cli.NetworkDisconnect(ctx, e.net.id, client.NetworkDisconnectOptions{Container: be.host, Force: true}); err != nil {
		return nil, fmt.Errorf("docker: link down %s: %w", be.id, err)
	}
	return func(ctx context.Context) error {
		_, err := e.cli.NetworkConnect(ctx, e.net.id, client.NetworkConnectOptions{
			Container:      be.host,
			EndpointConfig: &network.EndpointSettings{IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: be.addr.Addr()}},
		})
		if err != nil {
			return fmt.Errorf("docker: link up %s: %w", be.id, err)
		}
		return nil
	}, nil
}

// nsFault makes a loss, partition, rate or delay fault inside the
// namespace of the backend's host, holding it open while the fault lasts.
func (e *Env) nsFault(ctx context.Context, be *backend, f driver.Fault) (driver.Undo, error) {
	ns, err := e.containerNS(ctx, be.host, be.id+"-host")
	if err != nil {
		return nil, err
	}
	var undo driver.Undo
	switch f.Kind {
	case driver.FaultLoss:
		undo, err = netfault.Drop(ns, "wslb_loss", netfault.Loss(f.Percent))
	case driver.FaultPartition:
		undo, err = netfault.Drop(ns, "wslb_partition", netfault.Peer(e.net.proxy))
	case driver.FaultRate:
		var ends []netfault.Link
		if ends, err = bothEnds(ns, e.net.id); err == nil {
			undo, err = netfault.Rate(ends, f.Rate)
		}
	case driver.FaultDelay:
		undo, err = netfault.Delay(ns, be.addr, e.net.proxy, f.Delay)
	default:
		err = driver.FaultNotSupported(Name, f)
	}
	if err != nil {
		ns.Handle.Close()
		return nil, err
	}
	return func(ctx context.Context) error {
		defer ns.Handle.Close()
		return undo(ctx)
	}, nil
}

// containerNS opens the network namespace of container id's process.
func (e *Env) containerNS(ctx context.Context, id, name string) (netfault.NS, error) {
	ns, _, err := e.containerNSPid(ctx, id, name)
	return ns, err
}

// containerNSPid is containerNS, and the process's PID.
func (e *Env) containerNSPid(ctx context.Context, id, name string) (netfault.NS, int, error) {
	res, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil || res.Container.State.Pid == 0 {
		return netfault.NS{}, 0, fmt.Errorf("docker: %s has no running process (%v)", name, err)
	}
	h, err := netns.GetFromPid(res.Container.State.Pid)
	if err != nil {
		return netfault.NS{}, 0, driver.Unavailable(fmt.Errorf("docker: enter the network namespace of %s (needs root on the engine's host): %w", name, err))
	}
	return netfault.NS{Name: name, Handle: h}, res.Container.State.Pid, nil
}

// bothEnds are the two ends of a container's link to the run's network:
// its eth0, and the veth the engine plugged into the network's bridge on
// this host (br- and the network id's first 12 digits), which dies with
// the container.
func bothEnds(ns netfault.NS, netID string) ([]netfault.Link, error) {
	nl, err := netlink.NewHandleAt(ns.Handle)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", ns.Name, err)
	}
	eth0, err := nl.LinkByName("eth0")
	nl.Close()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ns.Name, err)
	}
	home, err := netfault.Origin()
	if err != nil {
		return nil, err
	}
	if nl, err = netlink.NewHandleAt(home.Handle); err != nil {
		return nil, fmt.Errorf("netlink on this host: %w", err)
	}
	defer nl.Close()
	bridge := "br-" + netID[:min(12, len(netID))]
	peer, err := nl.LinkByIndex(eth0.Attrs().ParentIndex)
	if err == nil {
		var br netlink.Link
		if br, err = nl.LinkByIndex(peer.Attrs().MasterIndex); err == nil && br.Attrs().Name != bridge {
			err = fmt.Errorf("its master is %s", br.Attrs().Name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("the bridge end of %s's link is not on %s of this host (is the engine on this host?): %w", ns.Name, bridge, err)
	}
	return []netfault.Link{{NS: ns, Name: "eth0"}, {NS: home, Name: peer.Attrs().Name}}, nil
}
