package loopback

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// Ports for backends and proxy listeners are picked at random below the
// kernel's ephemeral range, and checked free by binding them. Ports from
// ":0" come from the ephemeral range, which outgoing connections use too:
// with thousands of clients reconnecting, a backend that is stopped and
// started again on its port would often find it taken as some
// connection's source port.
const (
	lowestPort   = 10000
	pickAttempts = 200
)

// host is the address every backend and proxy listener of this driver
// binds; clients come from elsewhere in 127.0.0.0/8 (Clients).
var host = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if low, err := strconv.Atoi(f[0]); err == nil {
				return low
			}
		}
	}
	return 32768
}

// listenTCP listens on addr for a backend. Its accepted connections get no
// TCP keep-alive: a peer on the same host cannot vanish unseen, and Go's
// default (on, every 15s) costs four setsockopt calls per connection.
func listenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), "tcp", addr)
}

// listenFree binds a TCP listener on a free 127.0.0.1 port below the
// ephemeral range, or on ":0" when that range is too small to pick from.
func listenFree() (net.Listener, error) {
	low := ephemeralLow()
	if low-lowestPort >= 1000 {
		for i := 0; i < pickAttempts; i++ {
			port := lowestPort + rand.IntN(low-lowestPort)
			ln, err := listenTCP(netip.AddrPortFrom(host, uint16(port)).String())
			if err == nil {
				return ln, nil
			}
		}
	}
	ln, err := listenTCP(netip.AddrPortFrom(host, 0).String())
	if err != nil {
		return nil, fmt.Errorf("pick a free loopback port: %w", err)
	}
	return ln, nil
}

// FreePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago: it binds all n at once (so they are distinct), then closes
// them for the proxy to bind.
//
// Between the close and the proxy's bind another program may take a port.
// That is unlikely (the ports are outside the range the kernel hands out),
// and StartProxy reports it as ErrAddrInUse: render with fresh ports and
// start again.
func FreePorts(n int) ([]int, error) {
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for len(ports) < n {
		ln, err := listenFree()
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ListenAddrs returns n distinct free addresses on the loopback host for a
// proxy's listeners (see FreePorts).
func ListenAddrs(n int) ([]netip.AddrPort, error) {
	ports, err := FreePorts(n)
	if err != nil {
		return nil, err
	}
	addrs := make([]netip.AddrPort, len(ports))
	for i, p := range ports {
		addrs[i] = netip.AddrPortFrom(host, uint16(p))
	}
	return addrs, nil
}

// FreePort returns one free TCP port on 127.0.0.1 (see FreePorts).
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}
