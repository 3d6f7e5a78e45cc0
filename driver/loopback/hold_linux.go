package loopback

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// holdPort binds a TCP socket to addr without listening on it. While a
// backend is stopped, connections to its address are refused as by a
// closed port (nothing listens), yet no other process can take the port
// before Start listens on this same socket again.
func holdPort(addr netip.AddrPort) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("hold %s: %w", addr, err)
	}
	// As Go's listeners do: sockets of the previous life in TIME_WAIT
	// must not block the bind.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hold %s: %w", addr, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hold %s: %w", addr, err)
	}
	// Bound, it stops sharing: a listener's bind (which sets
	// SO_REUSEADDR too) would otherwise succeed next to it.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("hold %s: %w", addr, err)
	}
	return os.NewFile(uintptr(fd), "held "+addr.String()), nil
}

// listenHeld starts listening on a socket holdPort bound, and closes f.
func listenHeld(f *os.File) (net.Listener, error) {
	defer f.Close()
	fd := int(f.Fd())
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", f.Name(), err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", f.Name(), err)
	}
	return net.FileListener(f)
}
