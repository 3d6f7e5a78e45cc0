package netns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/wslb/wslb/driver"
)

// delay adds d to the path between the proxy and the backend. Where the
// kernel has netem, a netem queue on both ends of the backend's link
// delays every packet by d; where it has none (this one), the proxy's new
// connections to the backend are redirected (nftables, inside the
// backend's host) to a relay in that host that holds every chunk d
// before passing it on, both ways. Connections open before the fault keep
// their direct path.
func delay(s *backend, d time.Duration) (driver.Undo, error) {
	if u, err := netem(s.host, d); err == nil {
		return u, nil
	}
	return relay(s, d)
}

// netem tries a netem queue with delay d on the backend's eth0.
func netem(h *host, d time.Duration) (driver.Undo, error) {
	var q *netlink.Netem
	err := h.netlink(func(nl *netlink.Handle) error {
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
		return h.netlink(func(nl *netlink.Handle) error { return nl.QdiscDel(q) })
	}, nil
}

// listen opens a TCP listener inside the host (see dial).
func (h *host) listen(addr string) (net.Listener, error) {
	home, err := origin()
	if err != nil {
		return nil, err
	}
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(h.ns); err != nil {
			ch <- result{nil, err}
			return
		}
		ln, err := net.Listen("tcp4", addr)
		ch <- result{ln, err}
		if netns.Set(home) == nil {
			runtime.UnlockOSThread()
		}
	}()
	r := <-ch
	return r.ln, r.err
}

// relay runs the user-space relay and redirects the proxy to it.
func relay(s *backend, d time.Duration) (driver.Undo, error) {
	ln, err := s.host.listen(s.addr.Addr().String() + ":0")
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	r := &delayRelay{ln: ln, host: s.host, backend: s.addr.String(), d: d, conns: map[net.Conn]bool{}}
	go r.serve()
	undoNAT, err := redirect(s.host, s.addr.Port(), port)
	if err != nil {
		r.close()
		return nil, err
	}
	return func(ctx context.Context) error {
		return errors.Join(undoNAT(ctx), r.close())
	}, nil
}

// redirect sends the proxy's new TCP connections to port from to port to,
// in h: ip saddr PROXY tcp dport FROM redirect to :TO.
func redirect(h *host, from, to uint16) (driver.Undo, error) {
	c, err := nftables.New(nftables.WithNetNSFd(int(h.ns)))
	if err != nil {
		return nil, err
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: "wslb_delay"})
	ch := c.AddChain(&nftables.Chain{Name: "prerouting", Table: t, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest})
	c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: proxyAddr.AsSlice()},
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, from)},
		&expr.Immediate{Register: 1, Data: binary.BigEndian.AppendUint16(nil, to)},
		&expr.Redir{RegisterProtoMin: 1},
	}})
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("nftables redirect in %s: %w", h.name, err)
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
	host    *host
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
	server, err := r.host.dial(context.Background(), &net.Dialer{Timeout: 5 * time.Second}, "tcp4", r.backend)
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
