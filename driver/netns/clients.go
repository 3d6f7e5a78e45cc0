package netns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/vishvananda/netlink"
)

// clients are the run's client hosts. Client i's source address is
// 198.19.X.Y: neighbouring clients differ in X (their /24, what nginx's
// ip_hash keys on) and in Y, as harness.SourceAddr's 127.X.Y.Z do; X/64
// picks the host that holds it. An address is added to its host the
// first time Source hands it out.
type clients struct {
	hosts []*host

	mu    sync.Mutex
	added map[netip.Addr]bool
}

// maxSources matches harness.MaxSourceClients: 250 × 250 addresses.
const maxSources = 250 * 250

// clientRange is the /18 of 198.19.0.0/16 that client host k holds.
func clientRange(k int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 19, byte(64 * k), 0}), 18)
}

func sourceAddr(i int) netip.Addr {
	q, r := i/250, i%250
	return netip.AddrFrom4([4]byte{198, 19, byte(1 + r), byte(1 + (r+q)%250)})
}

// hostOf is the client host holding addr (the first for any other).
func (c *clients) hostOf(addr netip.Addr) (int, *host) {
	if a := addr.Unmap(); a.Is4() && a.As4()[1] == 19 && netPrefix.Contains(a) {
		k := int(a.As4()[2]) / 64
		return k, c.hosts[k]
	}
	return 0, c.hosts[0]
}

// Source hands out client i's address, adding it to its host.
func (c *clients) Source(i int) (netip.Addr, error) {
	if i < 0 || i >= maxSources {
		return netip.Addr{}, fmt.Errorf("client %d: source addresses exist for clients 0 to %d", i, maxSources-1)
	}
	a := sourceAddr(i)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.added[a] {
		return a, nil
	}
	_, h := c.hostOf(a)
	err := h.netlink(func(nl *netlink.Handle) error {
		l, err := nl.LinkByName("eth0")
		if err != nil {
			return err
		}
		return nl.AddrAdd(l, &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(32, 32)}})
	})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("client %d: add %s to its host: %w", i, a, err)
	}
	c.added[a] = true
	return a, nil
}

// MaxSources is how many distinct addresses Source hands out.
func (c *clients) MaxSources() int { return maxSources }

// Dial dials from the host holding d.LocalAddr (the first client host
// when d has none).
func (c *clients) Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	h := c.hosts[0]
	if ta, ok := d.LocalAddr.(*net.TCPAddr); ok && ta != nil {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			_, h = c.hostOf(a)
		}
	}
	return h.dial(ctx, d, network, addr)
}

// Local reports whether addr is in the run's network, 198.18.0.0/15.
func (c *clients) Local(addr netip.Addr) bool { return netPrefix.Contains(addr.Unmap()) }
