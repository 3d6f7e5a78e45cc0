package netns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/wslb/wslb/driver/internal/netfault"
)

// nsDir is where named network namespaces live (as `ip netns` keeps
// them): the sandbox joins the proxy's by this path, and --cleanup finds
// a killed run's here.
const nsDir = "/run/netns"

// host is one network namespace of a run, with a thread of its own that
// stays inside it for the run's life: processes are started from that
// thread, so they are born in the namespace, and their parent-death
// signal (tied to the thread that started them) fires when the run ends.
type host struct {
	name string
	ns   netns.NsHandle
	// mu guards nl: a netlink handle is one socket.
	mu sync.Mutex
	nl *netlink.Handle

	jobs chan func()
	done chan struct{}
	once sync.Once
}

// newHost creates the named namespace, with lo up.
func newHost(name string) (*host, error) {
	h := &host{name: name, jobs: make(chan func()), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		defer close(h.done)
		// Never unlocked: the thread has left the run's namespace, and
		// ends with this goroutine.
		runtime.LockOSThread()
		ns, err := netns.NewNamed(name)
		if err != nil {
			ready <- fmt.Errorf("create network namespace %s: %w", name, err)
			return
		}
		h.ns = ns
		ready <- nil
		for job := range h.jobs {
			job()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	nl, err := netlink.NewHandleAt(h.ns)
	if err != nil {
		h.close()
		return nil, fmt.Errorf("netlink in %s: %w", name, err)
	}
	h.nl = nl
	if err := h.linkUp("lo"); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// path is the namespace's file, for setns(2).
func (h *host) path() string { return filepath.Join(nsDir, h.name) }

// run calls f on the host's thread, inside the namespace.
func (h *host) run(f func()) error {
	done := make(chan struct{})
	select {
	case h.jobs <- func() { f(); close(done) }:
	case <-h.done:
		return fmt.Errorf("network namespace %s is gone", h.name)
	}
	<-done
	return nil
}

// netlink runs f with the host's netlink handle.
func (h *host) netlink(f func(nl *netlink.Handle) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.nl == nil {
		return fmt.Errorf("network namespace %s is gone", h.name)
	}
	return f(h.nl)
}

func (h *host) linkUp(name string) error {
	return h.netlink(func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(name)
		if err == nil {
			err = nl.LinkSetUp(l)
		}
		if err != nil {
			return fmt.Errorf("%s: bring %s up: %w", h.name, name, err)
		}
		return nil
	})
}

// operUp reports whether link name is operationally up: its carrier is
// on and it carries traffic, not only set up.
func (h *host) operUp(name string) (bool, error) {
	var up bool
	err := h.netlink(func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(name)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", h.name, name, err)
		}
		up = l.Attrs().OperState == netlink.OperUp
		return nil
	})
	return up, err
}

// faultNS is the host's namespace as netfault takes it.
func (h *host) faultNS() netfault.NS { return netfault.NS{Name: h.name, Handle: h.ns} }

// dial dials with d from inside the namespace (netfault.Dial).
func (h *host) dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	return netfault.Dial(ctx, h.faultNS(), d, network, addr)
}

// close ends the host's thread and removes the namespace; the kernel
// frees it once no process and no open handle holds it. Idempotent.
func (h *host) close() error {
	var err error
	h.once.Do(func() {
		close(h.jobs)
		<-h.done
		h.mu.Lock()
		if h.nl != nil {
			h.nl.Close()
			h.nl = nil
		}
		h.mu.Unlock()
		if h.ns.IsOpen() {
			h.ns.Close()
		}
		err = removeNS(h.name)
	})
	return err
}

// removeNS unmounts and removes the named namespace's file (what `ip netns
// delete` does); one that is half made or already gone is no error.
func removeNS(name string) error {
	p := filepath.Join(nsDir, name)
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove network namespace %s: %w", name, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove network namespace %s: %w", name, err)
	}
	return nil
}
