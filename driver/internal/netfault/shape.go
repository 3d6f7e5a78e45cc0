package netfault

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"

	"github.com/wslb/wslb/driver"
)

// Link is one network interface, by name, in a namespace.
type Link struct {
	NS   NS
	Name string
}

// Rate shapes every link in ends to rate bits/s (one tbf each, on its
// egress: a link's two ends shape both directions). A failure lifts what
// was put on already.
func Rate(ends []Link, rate uint64) (driver.Undo, error) {
	var undos []driver.Undo
	for _, end := range ends {
		u, err := tbf(end, rate)
		if err != nil {
			_ = All(undos...)(context.Background())
			return nil, err
		}
		undos = append(undos, u)
	}
	return All(undos...), nil
}

// All is one undo that runs every undo, last first, and joins their errors.
func All(undos ...driver.Undo) driver.Undo {
	return func(ctx context.Context) error {
		var errs []error
		for i := len(undos) - 1; i >= 0; i-- {
			errs = append(errs, undos[i](ctx))
		}
		return errors.Join(errs...)
	}
}

// tbf puts a token bucket filter of rate bits/s on l, with a burst of
// 10 ms of traffic (at least 16 KB) and a 200 ms queue.
func tbf(l Link, rate uint64) (driver.Undo, error) {
	bytesPerSec := rate / 8
	burst := uint32(max(bytesPerSec/100, 16*1024))
	var q *netlink.Tbf
	err := l.NS.netlink(func(nl *netlink.Handle) error {
		link, err := nl.LinkByName(l.Name)
		if err != nil {
			return err
		}
		q = &netlink.Tbf{
			QdiscAttrs: netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
			Rate:       bytesPerSec,
			Limit:      uint32(bytesPerSec/5) + burst,
			Buffer:     netlink.Xmittime(bytesPerSec, burst),
		}
		return nl.QdiscAdd(q)
	})
	if err != nil {
		return nil, fmt.Errorf("tbf on %s in %s: %w", l.Name, l.NS.Name, err)
	}
	return func(context.Context) error {
		return l.NS.netlink(func(nl *netlink.Handle) error { return nl.QdiscDel(q) })
	}, nil
}
