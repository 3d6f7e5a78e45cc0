package netfault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/wslb/wslb/driver"
)

// Delay adds d to the path between peer (the proxy) and backend, which
// listens in ns on its eth0. Where the kernel has netem, a netem queue on
// the backend's eth0 delays every packet by d; where it has none (this
// one), peer's new connections to the backend are redirected (nftables,
// in ns) to a relay there that holds every chunk d before passing it on,
// both ways. Connections open before the fault keep their direct path.
func Delay(ns NS, backend netip.AddrPort, peer netip.Addr, d time.Duration) (driver.Undo, error) {
	if u, err := netem(ns, d); err == nil {
		return u, nil
	}
	return relay(ns, backend, peer, d)
}

// netem tries a netem queue with delay d on eth0 in ns.
func netem(ns NS, d time.Duration) (driver.Undo, error) {
	var q *netlink.Netem
	err := ns.netlink(func(nl *netlink.Handle) error {
		l, err := nl.LinkByName("eth0")
		if err != nil {
			return err
		}
		q = netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(2, 0), Parent: netlink.HANDLE_ROOT},
			netlink.NetemQdiscAttrs{Latency: uint32(d.Microseconds())})
		return nl.QdiscAdd(q)
	})
	if err != nil {
		return nil, err
	}
	return func(context.Context) error {
		return ns.netlink(func(nl *netlink.Handle) error { return nl.QdiscDel(q) })
	}, nil
}

// relay runs the user-space relay in ns and redirects peer to it.
func relay(ns NS, backend netip.AddrPort, peer netip.Addr, d time.Duration) (driver.Undo, error) {
	ln, err := Listen(ns, backend.Addr().String()+":0")
	if err != nil {
		return nil, fmt.Errorf("relay in %s: %w", ns.Name, err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	r := &delayRelay{ln: ln, ns: ns, backend: backend.String(), d: d, conns: map[net.Conn]bool{}}
	go r.serve()
	undoNAT, err := redirect(ns, peer, backend.Port(), port)
	if err != nil {
		r.close()
		return nil, err
	}
	return func(ctx context.Context) error {
		return errors.Join(undoNAT(ctx), r.close())
	}, nil
}

// redirect sends peer's new TCP connections to port from to port to, in
// ns: ip saddr PEER tcp dport FROM redirect to :TO.
func redirect(ns NS, peer netip.Addr, from, to uint16) (driver.Undo, error) {
	c, err := nftables.New(nftables.WithNetNSFd(int(ns.Handle)))
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", ns.Name, err)
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: "wslb_delay"})
	ch := c.AddChain(&nftables.Chain{Name: "prerouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: peer.AsSlice()},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, from)},
		&expr.Immediate{Register: 1, Data: binary.BigEndian.AppendUint16(nil, to)},
		&expr.Redir{RegisterProtoMin: 1},
	}})
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("nftables redirect in %s: %w", ns.Name, err)
	}
	return func(context.Context) error {
		c.DelTable(t)
		return c.Flush()
	}, nil
}

// delayRelay passes every connection on to the backend, each chunk held
// d in each direction.
type delayRelay struct {
	ln      net.Listener
	ns      NS
	backend string
	d       time.Duration

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

func (r *delayRelay) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go r.pass(c)
	}
}

func (r *delayRelay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = true
	return true
}

func (r *delayRelay) pass(client net.Conn) {
	if !r.track(client) {
		return
	}
	server, err := Dial(context.Background(), r.ns, &net.Dialer{Timeout: 5 * time.Second}, "tcp4", r.backend)
	if err != nil {
		client.Close()
		return
	}
	if !r.track(server) {
		client.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.copyDelayed(server, client) }()
	go func() { defer wg.Done(); r.copyDelayed(client, server) }()
	wg.Wait()
	client.Close()
	server.Close()
}

type chunk struct {
	at   time.Time
	data []byte
}

// copyDelayed copies src to dst, writing each chunk d after it was read,
// in order; a close is passed on as a half-close, d late too.
func (r *delayRelay) copyDelayed(dst, src net.Conn) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32*1024)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{time.Now().Add(r.d), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.data); err != nil {
			_ = src.Close()
			for range q {
			}
			return
		}
	}
	time.Sleep(r.d)
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	} else {
		_ = dst.Close()
	}
}

func (r *delayRelay) close() error {
	r.mu.Lock()
	r.closed = true
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	err := r.ln.Close()
	for c := range conns {
		c.Close()
	}
	return err
}
