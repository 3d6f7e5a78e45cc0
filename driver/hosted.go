package driver

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// HostedServer is a Server that runs as a process of its own (the user's
// --backend-cmd). A driver that gives every backend a host of its own
// starts it inside the backend's network namespace, on the backend's
// address, instead of handing it a listener made in wslb's.
type HostedServer interface {
	Server
	// ServeHosted starts the server on addr inside the network namespace
	// at netns (a path for setns(2)) and waits until it exits.
	ServeHosted(addr netip.AddrPort, netns string) error
}

// Signaler is a Server whose process a driver can freeze (Pause) and
// let go on (Resume).
type Signaler interface {
	Pause() error
	Resume() error
}

// EchoBroker is the broker wslb's echo backends join when they run as
// processes of their own: each publishes through it and delivers what it
// hands over (`wslb echo --broker`).
type EchoBroker struct {
	// Kind is the broker's kind (redis, nats, rabbitmq, kafka).
	Kind string
	// URL reaches it from the backends' hosts.
	URL string
	// Channel is where publications go; "{id}" in it is replaced by the
	// backend's id.
	Channel string
	// OnState, when set, is told every change of a backend's connection
	// to the broker (not its leaving when it stops), as the backend
	// reports it. It is called from the driver's goroutines and must not
	// block.
	OnState func(BrokerEvent)
}

// BrokerEvent is an echo backend's broker connection going down or coming
// back.
type BrokerEvent struct {
	Node string // the backend's id
	Up   bool
	At   time.Time
	Err  string // why it went down
}

// ServiceHost is a host of its own on a run's network for a service the
// backends share (a message broker, the user's Redis), which the
// backends reach and the clients do not need to.
type ServiceHost struct {
	// Addr is the host's address: the service listens there.
	Addr netip.Addr
	// NetNS is the host's network namespace (a path for setns(2)): a
	// process started there (by the sandbox) listens on Addr.
	NetNS string
	// Dial dials from the host itself (readiness probes).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Listen makes a listener inside the host (a service that runs in
	// wslb's process, such as the in-process Kafka).
	Listen func(network, addr string) (net.Listener, error)
}

// ServiceHoster is an Env whose backends are hosts of their own: a
// service they share must run on a host of the run's network too, since
// they cannot reach wslb's loopback. Envs without it run such services on
// loopback.
type ServiceHoster interface {
	// ServiceHost makes a new host, named name in the run (letters and
	// digits), for one service.
	ServiceHost(name string) (*ServiceHost, error)
}
