package harness

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// Client is one client's identity.
type Client struct {
	Index int
	Name  string // client-0042
	// Source is the address the client binds to in source mode; the zero
	// Addr otherwise.
	Source netip.Addr
	// Value is the header or query parameter value in header and query
	// mode (the client's name); empty otherwise.
	Value string
}

// String names the client for reports: "client-0042 (127.1.43.43)".
func (c Client) String() string {
	if c.Source.IsValid() {
		return fmt.Sprintf("%s (%s)", c.Name, c.Source)
	}
	return c.Name
}

// ClientName is the name of client i.
func ClientName(i int) string { return fmt.Sprintf("client-%04d", i) }

// SourceAddr is the source address of client i in source mode. Neighbouring
// clients differ in both the third and the fourth octet: nginx ip_hash keys
// on the /24 only, and HAProxy's map-based source hash takes the whole
// address modulo the weight total, so a step of 256 alone could land every
// client on one server. The /24 (second and third octet) is distinct for
// every i below MaxSourceClients; 127.0.0.0/16, .0 and .255 are never used.
func SourceAddr(i int) (netip.Addr, error) {
	if i < 0 || i >= MaxSourceClients {
		return netip.Addr{}, fmt.Errorf("client %d: source addresses exist for clients 0 to %d", i, MaxSourceClients-1)
	}
	q, r := i/250, i%250
	return netip.AddrFrom4([4]byte{127, byte(1 + q), byte(1 + r), byte(1 + (r+q)%250)}), nil
}

// Sources are the hosts clients connect from: client i's source address
// in source mode (up to MaxSources distinct ones), and the dial that opens
// a connection on the host holding an address (driver.Clients).
type Sources interface {
	Source(i int) (netip.Addr, error)
	MaxSources() int
	// Dial dials with d from the host holding d.LocalAddr (any client
	// host when it has none).
	Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error)
	// Local reports whether addr belongs to the run's own network: a
	// target there needs no AllowRemote.
	Local(addr netip.Addr) bool
}

// loopbackSources are SourceAddr's addresses, on this host.
type loopbackSources struct{}

func (loopbackSources) Source(i int) (netip.Addr, error) { return SourceAddr(i) }
func (loopbackSources) MaxSources() int                  { return MaxSourceClients }
func (loopbackSources) Local(addr netip.Addr) bool       { return addr.Unmap().IsLoopback() }
func (loopbackSources) Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	return d.DialContext(ctx, network, addr)
}

// LoopbackSources are the 127.X.Y.Z addresses of SourceAddr, the default
// Config.Sources.
var LoopbackSources Sources = loopbackSources{}

func (cfg Config) sources() Sources {
	if cfg.Sources == nil {
		return LoopbackSources
	}
	return cfg.Sources
}

// identities builds the clients for cfg (validated, defaults applied).
func identities(cfg Config) ([]Client, error) {
	clients := make([]Client, cfg.Clients)
	for i := range clients {
		n := cfg.FirstClient + i
		c := Client{Index: i, Name: ClientName(n)}
		switch cfg.Mode {
		case ModeSource:
			src, err := cfg.sources().Source(n)
			if err != nil {
				return nil, err
			}
			c.Source = src
		case ModeHeader, ModeQuery:
			c.Value = c.Name
		case ModeCookie:
			if cfg.SeedCookie {
				c.Value = c.Name
			}
		}
		clients[i] = c
	}
	return clients, nil
}
