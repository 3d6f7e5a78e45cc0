// Package netns is the driver that runs every node of a topology as a
// host of its own: the proxy, each backend and a few client hosts, each in
// a network namespace, joined by veth pairs to a bridge that lives in a
// namespace of its own. Nothing changes in the namespace wslb runs in (no
// address, route, firewall rule or forwarding): every link, address and
// rule is made inside the run's namespaces, which go with the run.
//
// Addresses come from 198.18.0.0/15, set aside for network benchmarks:
//
//	198.18.0.2          the proxy
//	198.18.1.N          backend N-1 (one host, one address each)
//	198.18.253.K        service host K (a broker the backends share)
//	198.18.254.K        client host K (K = 1..4)
//	198.19.X.Y          client source addresses, X/64 picking the host,
//	                    so nginx's ip_hash (keyed on the /24) sees many
//
// Backends are wslb itself, started again inside their host as a process
// of their own (Pause and Resume are SIGSTOP and SIGCONT, Kill is a real
// kill), or the user's command (--backend-cmd) run in wslb's sandbox
// joined to the backend's host; the proxy runs in wslb's sandbox, which
// joins the proxy's host. A broker the backends share (or the user's
// Redis) runs on a service host of its own on the bridge.
// Namespace names carry the run's prefix (wslb-PID-RANDOM-), so parallel
// runs never collide and Cleanup knows which run is gone.
package netns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/netfault"
	"github.com/wslb/wslb/driver/loopback"
)

// Name is the driver's name for --driver.
const Name = "netns"

// prefix starts the name of every namespace the driver makes.
const prefix = "wslb-"

func init() {
	driver.Register(&driver.Descriptor{
		Name:    Name,
		Summary: "every node a host of its own: network namespaces on a private bridge (root)",
		Open:    Open,
		Cleanup: Cleanup,
		Check:   Check,
		// Above loopback: where it can run (root, namespaces work, the
		// run needs nothing Check refuses), every node has an address
		// of its own, as in production.
		AutoRank:  10,
		AutoCheck: autoCheck,
	})
}

// autoCheck keeps the user's servers off the driver unless it is named:
// a server that listens on 127.0.0.1 (as many do) is reached on loopback
// only, and in its backend's host nothing else can reach it.
func autoCheck(needs driver.Needs) error {
	if needs.ForeignServers {
		return errors.New("a --backend-cmd server may listen on 127.0.0.1 only; --driver netns runs it in its backend's host, where it must listen on {host}")
	}
	return nil
}

// Check says whether the driver runs here: as root, with network
// namespaces. The user's servers (--backend-cmd) run inside the backends'
// hosts, and a broker wslb starts on a host of its own; a broker already
// running on this host cannot be reached from the run's hosts.
func Check(needs driver.Needs) error {
	if needs.ExternalBroker {
		return errors.New("the backends' hosts cannot reach a broker running on this host (--broker URL): let wslb start one (--broker-start KIND), or use --driver loopback")
	}
	for _, f := range needs.Faults {
		if !supported[f.Kind] {
			return driver.FaultNotSupported(Name, f)
		}
	}
	return available()
}

// available probes once whether a namespace can be made here.
var available = sync.OnceValue(func() error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces, veth pairs and a bridge)")
	}
	h, err := newHost(runPrefix() + "probe")
	if err != nil {
		return err
	}
	return h.close()
})

// Addresses of a run (see the package doc).
var (
	netPrefix   = netip.MustParsePrefix("198.18.0.0/15")
	proxyAddr   = netip.MustParseAddr("198.18.0.2")
	clientHosts = 4
)

func backendAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, byte(1 + i/250), byte(1 + i%250)})
}

func clientHostAddr(k int) netip.Addr { return netip.AddrFrom4([4]byte{198, 18, 254, byte(k + 1)}) }

// runPrefix names one run's namespaces: the owner's pid, for Cleanup,
// and a random part, so that runs of one process differ too.
func runPrefix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%d-%s-", prefix, os.Getpid(), hex.EncodeToString(b[:]))
}

// Env is one run: its hosts, backends and proxy.
type Env struct {
	prefix  string
	scratch *loopback.Scratch
	sw      *host // the bridge's
	proxy   *host
	clients *clients

	mu       sync.Mutex
	backends *Backends
	px       *loopback.Proxy
	faults   netfault.Held // faults still on, lifted by Close
	all      []*host       // every host but the switch
	ports    map[uint16]bool
	services int // service hosts made
	closed   bool
}

var _ driver.Env = (*Env)(nil)

// Open builds a run's network: the switch, the proxy's host and the
// client hosts. Namespaces that killed runs left are removed first.
func Open(ctx context.Context, _ driver.Options) (driver.Env, error) {
	if err := available(); err != nil {
		return nil, fmt.Errorf("driver %s: %w", Name, err)
	}
	_, _ = Cleanup(ctx)
	s, err := loopback.NewScratch()
	if err != nil {
		return nil, err
	}
	e := &Env{prefix: runPrefix(), scratch: s, ports: map[uint16]bool{}}
	if err := e.build(); err != nil {
		return nil, errors.Join(err, e.Close())
	}
	return e, nil
}

// build makes the switch, then the proxy's and the clients' hosts, each
// plugged into it.
func (e *Env) build() error {
	var err error
	if e.sw, err = newHost(e.prefix + "sw"); err != nil {
		return err
	}
	if err := e.sw.netlink(func(nl *netlink.Handle) error {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}
		if err := nl.LinkAdd(br); err != nil {
			return fmt.Errorf("add bridge: %w", err)
		}
		return nl.LinkSetUp(br)
	}); err != nil {
		return err
	}
	if e.proxy, err = e.plug("px", proxyAddr); err != nil {
		return err
	}
	cs := &clients{hosts: make([]*host, clientHosts), added: map[netip.Addr]bool{}}
	e.clients = cs
	for k := range cs.hosts {
		h, err := e.plug(fmt.Sprintf("c%d", k), clientHostAddr(k))
		if err != nil {
			return err
		}
		cs.hosts[k] = h
		// The proxy answers a client's source address through its host.
		if err := e.proxy.netlink(func(nl *netlink.Handle) error {
			dst := clientRange(k)
			gw := clientHostAddr(k)
			return nl.RouteAdd(&netlink.Route{Dst: prefixNet(dst), Gw: gw.AsSlice()})
		}); err != nil {
			return fmt.Errorf("route to client host %d: %w", k, err)
		}
	}
	return nil
}

// plug makes host NODE with address addr, linked to the bridge: a veth
// pair whose switch end is v-NODE and whose host end is eth0.
func (e *Env) plug(node string, addr netip.Addr) (*host, error) {
	h, err := newHost(e.prefix + node)
	if err != nil {
		return nil, err
	}
	e.track(h)
	swEnd := "v-" + node
	if err := e.sw.netlink(func(nl *netlink.Handle) error {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: swEnd}, PeerName: "eth0", PeerNamespace: netlink.NsFd(h.ns)}
		if err := nl.LinkAdd(veth); err != nil {
			return fmt.Errorf("add veth pair for %s: %w", node, err)
		}
		br, err := nl.LinkByName("br0")
		if err != nil {
			return err
		}
		if err := nl.LinkSetMaster(veth, br); err != nil {
			return fmt.Errorf("plug %s into the bridge: %w", node, err)
		}
		return nl.LinkSetUp(veth)
	}); err != nil {
		return nil, err
	}
	if err := h.netlink(func(nl *netlink.Handle) error {
		l, err := nl.LinkByName("eth0")
		if err != nil {
			return err
		}
		ipnet := &net.IPNet{IP: addr.AsSlice(), Mask: net.CIDRMask(netPrefix.Bits(), 32)}
		if err := nl.AddrAdd(l, &netlink.Addr{IPNet: ipnet}); err != nil {
			return fmt.Errorf("address %s on %s: %w", addr, node, err)
		}
		return nl.LinkSetUp(l)
	}); err != nil {
		return nil, err
	}
	if err := waitOperUp(h, "eth0", e.sw, swEnd); err != nil {
		return nil, fmt.Errorf("plug %s: %w", node, err)
	}
	return h, nil
}

// linkUpWait bounds waiting for a veth pair to carry traffic.
const linkUpWait = 5 * time.Second

// waitOperUp waits until both ends of a veth pair are operationally up.
// Setting a link up returns at once; the kernel turns its carrier on, and
// with it activates its queue and lets the bridge forward on the port,
// later, in a work item that a loaded machine runs late. A packet sent
// before is dropped: a first connection then waits a second for its
// retransmission, longer than a fast health check's connect timeout.
func waitOperUp(a *host, aLink string, b *host, bLink string) error {
	deadline := time.Now().Add(linkUpWait)
	for {
		aUp, err := a.operUp(aLink)
		if err != nil {
			return err
		}
		bUp, err := b.operUp(bLink)
		if err != nil {
			return err
		}
		if aUp && bUp {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s (in %s) and %s (in %s) not both up after %s", aLink, a.name, bLink, b.name, linkUpWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// hosts are every host made so far, for Close (the switch apart).
func (e *Env) track(h *host) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, h)
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// Driver is Name.
func (e *Env) Driver() string { return Name }

// Dir is the run's scratch dir on wslb's side.
func (e *Env) Dir() string { return e.scratch.Dir }

// WriteFile writes a file inside Dir.
func (e *Env) WriteFile(name string, data []byte) (string, error) {
	return e.scratch.WriteFile(name, data)
}

// Clients are the client hosts.
func (e *Env) Clients() driver.Clients { return e.clients }

// ListenAddrs hands out n ports on the proxy's address: its host holds
// nothing else, so any port not handed out yet is free.
func (e *Env) ListenAddrs(n int) ([]netip.AddrPort, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]netip.AddrPort, 0, n)
	for len(out) < n {
		p := randomPort()
		if e.ports[p] {
			continue
		}
		e.ports[p] = true
		out = append(out, netip.AddrPortFrom(proxyAddr, p))
	}
	return out, nil
}

// randomPort is a port between 10000 and 59999.
func randomPort() uint16 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return 10000 + (uint16(b[0])<<8|uint16(b[1]))%50000
}

// StartProxy runs the proxy in wslb's sandbox, inside the proxy's host;
// readiness is probed from a client host, across the bridge.
func (e *Env) StartProxy(ctx context.Context, spec driver.ProxySpec) (driver.Proxy, error) {
	e.mu.Lock()
	if e.px != nil {
		e.mu.Unlock()
		return nil, errors.New("start proxy: this run has a proxy already")
	}
	e.mu.Unlock()
	p, err := loopback.StartProxy(ctx, loopback.ProxyOptions{
		Kind:         spec.Binary.Kind,
		Binary:       spec.Binary.Path,
		Config:       spec.Config,
		Dir:          e.scratch.Dir,
		ReadyAddr:    spec.ReadyAddr,
		ReadyPath:    spec.ReadyPath,
		ReadyTimeout: spec.ReadyTimeout,
		StopGrace:    spec.StopGrace,
		NetNS:        e.proxy.path(),
		Dial:         e.clients.Dial,
	})
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.px = p
	e.mu.Unlock()
	return p, nil
}

// Close tears the run down: faults lifted, the proxy, the backends (by
// pid), then every namespace. It is idempotent.
func (e *Env) Close() error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	px, b, hosts := e.px, e.backends, e.all
	e.mu.Unlock()
	var errs []error
	e.faults.LiftAll()
	if px != nil {
		errs = append(errs, px.Close())
	}
	errs = append(errs, b.Close())
	for _, h := range hosts {
		errs = append(errs, h.close())
	}
	if e.sw != nil {
		errs = append(errs, e.sw.close())
	}
	errs = append(errs, e.scratch.Close())
	return errors.Join(errs...)
}
