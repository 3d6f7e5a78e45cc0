//go:build !linux

package loopback

import (
	"errors"
	"net"
	"net/netip"
	"os"
)

// holdPort is Linux-only; elsewhere Start binds the port again.
func holdPort(netip.AddrPort) (*os.File, error) { return nil, errors.ErrUnsupported }

func listenHeld(*os.File) (net.Listener, error) { return nil, errors.ErrUnsupported }
