package netfault

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/wslb/wslb/driver"
)

// Rule makes one rule's expressions for a chain that sees packets in
// direction in (input) or out (output).
type Rule func(in bool) []expr.Any

// Loss drops pct% of the packets: numgen random mod 100 < pct drop.
// The register holds the number in host order; a comparison is bytewise,
// so it is turned big-endian first (as nft itself does).
func Loss(pct int) Rule {
	return func(bool) []expr.Any {
		return []expr.Any{
			&expr.Numgen{Register: 1, Modulus: 100, Type: unix.NFT_NG_RANDOM},
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: binary.BigEndian.AppendUint32(nil, uint32(pct))},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}
	}
}

// Peer drops what comes from peer (input) or goes to it (output).
func Peer(peer netip.Addr) Rule {
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

// Drop adds table name (family ip) to ns with an input and an output
// chain holding r; undo deletes the table.
func Drop(ns NS, name string, r Rule) (driver.Undo, error) {
	c, err := nftables.New(nftables.WithNetNSFd(int(ns.Handle)))
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", ns.Name, err)
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
		return nil, fmt.Errorf("nftables in %s: %w", ns.Name, err)
	}
	return func(context.Context) error {
		c.DelTable(t)
		if err := c.Flush(); err != nil {
			return fmt.Errorf("nftables in %s: remove %s: %w", ns.Name, name, err)
		}
		return nil
	}, nil
}
