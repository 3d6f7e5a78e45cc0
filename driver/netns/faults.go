package netns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/wslb/wslb/driver"
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
	var undo driver.Undo
	switch f.Kind {
	case driver.FaultPause:
		if err = b.Pause(ctx, f.Backend); err == nil {
			undo = func(ctx context.Context) error { return b.Resume(ctx, f.Backend) }
		}
	case driver.FaultLoss:
		undo, err = nftDrop(s.host, "wslb_loss", lossRule(f.Percent))
	case driver.FaultPartition:
		undo, err = nftDrop(s.host, "wslb_partition", peerRule(proxyAddr))
	case driver.FaultDown:
		undo, err = linkDown(s.host)
	case driver.FaultRate:
		undo, err = e.rateLimit(s, f.Rate)
	case driver.FaultDelay:
		undo, err = delay(s, f.Delay)
	default:
		return nil, driver.FaultNotSupported(Name, f)
	}
	if err != nil {
		return nil, fmt.Errorf("fault %s: %w", f, err)
	}
	once := sync.OnceValue(func() error { return undo(context.Background()) })
	e.mu.Lock()
	e.undo = append(e.undo, func(context.Context) error { return once() })
	e.mu.Unlock()
	return func(context.Context) error { return once() }, nil
}

// rule makes one rule's expressions for a chain that sees packets in
// direction in (input) or out (output).
type rule func(in bool) []expr.Any

// lossRule drops pct% of the packets: numgen random mod 100 < pct drop.
// The register holds the number in host order; a comparison is bytewise,
// so it is turned big-endian first (as nft itself does).
func lossRule(pct int) rule {
	return func(bool) []expr.Any {
		return []expr.Any{
			&expr.Numgen{Register: 1, Modulus: 100, Type: unix.NFT_NG_RANDOM},
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binary.BigEndian.AppendUint32(nil, uint32(pct))},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}
	}
}

// peerRule drops what comes from peer (input) or goes to it (output).
func peerRule(peer interface{ AsSlice() []byte }) rule {
	return func(in bool) []expr.Any {
		offset := uint32(16) // destination address
		if in {
			offset = 12 // source address
		}
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: peer.AsSlice()},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}
	}
}

// nftDrop adds table name (family ip) to h with an input and an output
// chain holding r; undo deletes the table.
func nftDrop(h *host, name string, r rule) (driver.Undo, error) {
	c, err := nftables.New(nftables.WithNetNSFd(int(h.ns)))
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", h.name, err)
	}
	t := c.AddTable(&nftables.Table{Family: nftables.TableFamilyIPv4, Name: name})
	for _, hook := range []struct {
		name string
		num  *nftables.ChainHook
		in   bool
	}{{"input", nftables.ChainHookInput, true}, {"output", nftables.ChainHookOutput, false}} {
		ch := c.AddChain(&nftables.Chain{Name: hook.name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: hook.num, Priority: nftables.ChainPriorityFilter})
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: r(hook.in)})
	}
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", h.name, err)
	}
	return func(context.Context) error {
		c.DelTable(t)
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables in %s: remove %s: %w", h.name, name, err)
		}
		return nil
	}, nil
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

// rateLimit shapes both directions of the backend's link with a token
// bucket (tc tbf) of rate bits per second: the backend's eth0 and its
// end of the switch.
func (e *Env) rateLimit(s *backend, rate uint64) (driver.Undo, error) {
	ends := []struct {
		h    *host
		link string
	}{{s.host, "eth0"}, {e.sw, "v-" + nodeOf(s.host.name)}}
	var undos []driver.Undo
	undoAll := func(ctx context.Context) error {
		var errs []error
		for _, u := range undos {
			errs = append(errs, u(ctx))
		}
		return errors.Join(errs...)
	}
	for _, end := range ends {
		u, err := tbf(end.h, end.link, rate)
		if err != nil {
			_ = undoAll(context.Background())
			return nil, err
		}
		undos = append(undos, u)
	}
	return undoAll, nil
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

// tbf puts a token bucket filter of rate bits/s on link in h, with a
// burst of 10 ms of traffic (at least 16 KB) and a 200 ms queue.
func tbf(h *host, link string, rate uint64) (driver.Undo, error) {
	bytesPerSec := rate / 8
	burst := uint32(max(bytesPerSec/100, 16*1024))
	var q *netlink.Tbf
	err := h.netlink(func(nl *netlink.Handle) error {
		l, err := nl.LinkByName(link)
		if err != nil {
			return err
		}
		q = &netlink.Tbf{
			QdiscAttrs: netlink.QdiscAttrs{LinkIndex: l.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
			Rate:       bytesPerSec,
			Limit:      uint32(bytesPerSec/5) + burst,
			Buffer:     netlink.Xmittime(bytesPerSec, burst),
		}
		return nl.QdiscAdd(q)
	})
	if err != nil {
		return nil, fmt.Errorf("tbf on %s in %s: %w", link, h.name, err)
	}
	return func(context.Context) error {
		return h.netlink(func(nl *netlink.Handle) error { return nl.QdiscDel(q) })
	}, nil
}
