// Package netfault makes the network faults of the drivers that give each
// node a network namespace of its own (netns, docker): nftables drops,
// token-bucket shaping and added latency. Every change is made inside the
// namespace it is given, and lifted by the driver.Undo it returns.
package netfault

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NS is a network namespace faults are made in: a node's, by an open
// handle its owner keeps open while a fault lasts.
type NS struct {
	Name   string // for messages: the node or container
	Handle netns.NsHandle
}

// netlink runs f with a netlink handle inside ns.
func (ns NS) netlink(f func(nl *netlink.Handle) error) error {
	nl, err := netlink.NewHandleAt(ns.Handle)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", ns.Name, err)
	}
	defer nl.Close()
	return f(nl)
}

// origin is this process's own network namespace, where a thread that
// made a socket inside another goes back to.
var origin = sync.OnceValues(func() (netns.NsHandle, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return netns.Get()
})

// Origin is this process's own network namespace.
func Origin() (NS, error) {
	h, err := origin()
	if err != nil {
		return NS{}, fmt.Errorf("open this process's network namespace: %w", err)
	}
	return NS{Name: "this host", Handle: h}, nil
}

// in runs f on a thread that has entered ns: a socket belongs to the
// namespace of the thread that created it, and stays there. The thread
// goes back afterwards; one that cannot is ended instead of being reused.
func in[T any](ns NS, f func() (T, error)) (T, error) {
	var zero T
	home, err := origin()
	if err != nil {
		return zero, fmt.Errorf("open this process's network namespace: %w", err)
	}
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns.Handle); err != nil {
			ch <- result{zero, fmt.Errorf("enter %s: %w", ns.Name, err)}
			return // still locked: the thread ends
		}
		v, err := f()
		ch <- result{v, err}
		if netns.Set(home) == nil {
			runtime.UnlockOSThread()
		}
	}()
	r := <-ch
	return r.v, r.err
}

// Dial dials with d from inside ns.
func Dial(ctx context.Context, ns NS, d *net.Dialer, network, addr string) (net.Conn, error) {
	return in(ns, func() (net.Conn, error) { return d.DialContext(ctx, network, addr) })
}

// Listen opens a TCP listener inside ns.
func Listen(ns NS, addr string) (net.Listener, error) {
	return in(ns, func() (net.Listener, error) { return net.Listen("tcp4", addr) })
}
