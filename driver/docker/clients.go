package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver"
)

// Clients is the clients' host: a container of the run whose network
// namespace holds, besides its own address, one address per client in
// source mode from clientRange, neighbours in different /24s (nginx
// ip_hash keys on the /24). wslb opens the clients' connections inside that namespace: a few
// threads of its own enter it (setns), so the harness runs here while its
// sockets live there. That needs root on the engine's host.
type Clients struct {
	e *Env

	mu      sync.Mutex
	started bool
	pid     int // the container's init, in this host's /proc
	// pending are the addresses Source handed out that the host does not
	// have yet; the next dial adds them all in one batch.
	pending []netip.Addr
	have    map[netip.Addr]bool
	dialer  *nsDialer
	err     error
}

func newClients(e *Env) *Clients { return &Clients{e: e, have: map[netip.Addr]bool{}} }

// maxSources is how many source addresses the plan holds: 250 in each
// /24 of clientRange.
const (
	sourceNets    = 256
	sourcesPerNet = 250
	maxSources    = sourceNets * sourcesPerNet
	dialWorkers   = 16
)

// Source is client i's source address.
func (c *Clients) Source(i int) (netip.Addr, error) {
	if i < 0 || i >= maxSources {
		return netip.Addr{}, fmt.Errorf("client %d: the docker driver has source addresses for clients 0 to %d", i, maxSources-1)
	}
	base := clientRange.Addr().As4()
	a := netip.AddrFrom4([4]byte{base[0], base[1], byte(i % sourceNets), byte(1 + i/sourceNets)})
	c.mu.Lock()
	if !c.have[a] {
		c.have[a] = true
		c.pending = append(c.pending, a)
	}
	c.mu.Unlock()
	return a, nil
}

// MaxSources is how many distinct source addresses Source hands out.
func (c *Clients) MaxSources() int { return maxSources }

// Dial dials addr with d inside the clients' host, from d.LocalAddr (a
// Source address) or, without one, from the host's own address.
func (c *Clients) Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	var src netip.Addr
	if ta, ok := d.LocalAddr.(*net.TCPAddr); ok && ta != nil {
		src, _ = netip.AddrFromSlice(ta.IP)
		src = src.Unmap()
	}
	nd, err := c.ready(ctx, src)
	if err != nil {
		return nil, err
	}
	return nd.dial(ctx, d, network, addr)
}

// Local reports whether addr is on the run's network.
func (c *Clients) Local(addr netip.Addr) bool { return c.e.net.subnet.Contains(addr.Unmap()) }

// clientsStart bounds starting the clients' host (a container).
const clientsStart = 60 * time.Second

// ready starts the clients' host once and makes sure src is one of its
// addresses.
func (c *Clients) ready(ctx context.Context, src netip.Addr) (*nsDialer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if !c.started {
		c.started = true
		// The first dial starts the host, but its deadline is a
		// handshake's: on a busy engine a container takes longer to
		// start, and a failed start fails every client of the run. A
		// cancelled run (Ctrl-C) still stops the start.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), clientsStart)
		stop := context.AfterFunc(ctx, func() {
			if errors.Is(ctx.Err(), context.Canceled) {
				cancel()
			}
		})
		c.err = c.start(sctx)
		stop()
		cancel()
		if c.err != nil {
			return nil, c.err
		}
	}
	if len(c.pending) > 0 {
		if err := c.addSources(ctx); err != nil {
			return nil, err
		}
	}
	if src.IsValid() && !c.have[src] {
		return nil, fmt.Errorf("docker: %s is not a source address of the clients' host", src)
	}
	return c.dialer, nil
}

func (c *Clients) start(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return driver.Unavailable(fmt.Errorf("docker: the clients run in a container's network namespace, which takes root on the engine's host"))
	}
	e := c.e
	id, err := e.create(ctx, node{
		name: e.net.name + "-clients", image: e.node, role: "clients", addr: e.net.clients,
		cmd: []string{"echo", "--id", "clients", "--listen", "127.0.0.1:1"},
	})
	if err != nil {
		return err
	}
	if err := e.start(ctx, id, "clients"); err != nil {
		return err
	}
	res, err := e.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil || res.Container.State.Pid == 0 {
		return fmt.Errorf("docker: the clients' container has no process (%v)", err)
	}
	c.pid = res.Container.State.Pid
	c.dialer, err = newNSDialer(fmt.Sprintf("/proc/%d/ns/net", c.pid), dialWorkers)
	return err
}

// addSources adds the pending source addresses to the host's interface,
// in one batch.
func (c *Clients) addSources(ctx context.Context) error {
	var batch strings.Builder
	for _, a := range c.pending {
		fmt.Fprintf(&batch, "address add %s/32 dev eth0\n", a)
	}
	cmd := exec.CommandContext(ctx, "nsenter", "--net=/proc/"+strconv.Itoa(c.pid)+"/ns/net", "ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(batch.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker: add client addresses in the clients' container: %v: %s", err, strings.TrimSpace(string(out)))
	}
	c.pending = nil
	return nil
}

func (c *Clients) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dialer != nil {
		c.dialer.close()
		c.dialer = nil
	}
}

// nsDialer dials from inside a network namespace: its workers are
// goroutines locked to threads that entered the namespace, and a socket
// belongs to the namespace of the thread that created it. The threads
// never leave: when a worker ends, its goroutine exits still locked, and
// the runtime ends the thread with it.
type nsDialer struct {
	reqs chan dialReq
	stop chan struct{}
	once sync.Once
}

type dialReq struct {
	ctx     context.Context
	d       *net.Dialer
	network string
	addr    string
	res     chan dialRes
}

type dialRes struct {
	conn net.Conn
	err  error
}

func newNSDialer(nsPath string, workers int) (*nsDialer, error) {
	d := &nsDialer{reqs: make(chan dialReq), stop: make(chan struct{})}
	for range workers {
		ready := make(chan error, 1)
		go d.worker(nsPath, ready)
		if err := <-ready; err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

func (d *nsDialer) worker(nsPath string, ready chan<- error) {
	runtime.LockOSThread() // never unlocked: see nsDialer
	fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
	}
	if err != nil {
		ready <- fmt.Errorf("docker: enter the clients' network namespace %s: %w", nsPath, err)
		return
	}
	ready <- nil
	for {
		select {
		case <-d.stop:
			return
		case r := <-d.reqs:
			conn, err := r.d.DialContext(r.ctx, r.network, r.addr)
			r.res <- dialRes{conn, err}
		}
	}
}

func (d *nsDialer) dial(ctx context.Context, nd *net.Dialer, network, addr string) (net.Conn, error) {
	r := dialReq{ctx: ctx, d: nd, network: network, addr: addr, res: make(chan dialRes, 1)}
	select {
	case d.reqs <- r:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-d.stop:
		return nil, fmt.Errorf("docker: the run is over")
	}
	res := <-r.res
	return res.conn, res.err
}

func (d *nsDialer) close() { d.once.Do(func() { close(d.stop) }) }
