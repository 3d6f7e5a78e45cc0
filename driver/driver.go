// Package driver is the seam between verify and what runs a topology: the
// backends, the proxy and the hosts the clients connect from. A driver
// (driver/loopback today: processes on 127.0.0.0/8; network namespaces and
// containers next) registers a Descriptor from its init, and verify picks
// one by name. Every address — a backend's, the proxy's listeners, the
// clients' sources — is one the driver hands out, so verify never assumes
// a host. Import driver/all to register every built-in driver.
//
// This package knows no concrete driver.
package driver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/wslb/wslb/internal/proxybin"
)

// Options shape one run of a driver: the room for what a driver needs to
// know before anything starts (images, address plans).
type Options struct {
	// Clients is how many client identities the run may use: a driver
	// that gives every client an address of its own sizes its client
	// hosts by it (zero: the driver's default).
	Clients int
	// ProxyImages names, per proxy kind, the container image a driver
	// that runs containers starts the proxy from (--proxy-image); an
	// absent kind means the driver's default for the proxy's version.
	ProxyImages map[proxybin.Kind]string
	// BackendImage is the container image a driver that runs containers
	// runs the user's --backend-cmd in (--backend-image; "": the
	// driver's default).
	BackendImage string
}

// Needs are what a run asks of a driver beyond running wslb's echo
// backends, a proxy and clients; --driver auto picks the first driver
// whose Check accepts them.
type Needs struct {
	// ForeignServers: the servers are what BackendSpec.New makes (the
	// user's --backend-cmd), not wslb's echo server.
	ForeignServers bool
	// Broker: wslb's echo backends join a message broker wslb starts
	// (BackendSpec.Broker), of kind BrokerKind (redis, nats, rabbitmq,
	// kafka).
	Broker     bool
	BrokerKind string
	// ExternalBroker: the backends join a broker already running, which
	// wslb reaches from its own host.
	ExternalBroker bool
	// Faults the run injects.
	Faults []Fault
}

// Env is one run of a driver: everything it started, torn down by Close in
// order (the proxy, then the backends, then the hosts and scratch space).
type Env interface {
	// Driver is the name of the driver that opened the run.
	Driver() string
	// Dir is the run's private scratch directory on wslb's side: the
	// proxy's config, logs, pid files and sockets live there.
	Dir() string
	// WriteFile writes a file inside Dir and returns its absolute path.
	WriteFile(name string, data []byte) (string, error)

	// StartBackends starts one backend per id of spec, each on an address
	// of the driver's choosing, which stays the same across Stop and
	// Start. It may be called once per run.
	StartBackends(ctx context.Context, spec BackendSpec) (Backends, error)
	// ListenAddrs hands out n distinct addresses for the proxy's
	// listeners, free a moment ago (StartProxy reports a lost race as
	// an error that errors.Is syscall.EADDRINUSE: ask again).
	ListenAddrs(n int) ([]netip.AddrPort, error)
	// StartProxy starts the proxy and waits until it accepts connections
	// on spec.ReadyAddr. One proxy per run; a failed start may be retried.
	StartProxy(ctx context.Context, spec ProxySpec) (Proxy, error)
	// Clients are the hosts the load clients connect from.
	Clients() Clients
	// Fault injects f and returns what lifts it. A driver that cannot
	// returns an error that errors.Is ErrNotSupported.
	Fault(ctx context.Context, f Fault) (Undo, error)

	// Close tears down everything the run started. It is idempotent.
	Close() error
}

// Server is one backend's server on a listener the driver owns: wslb's
// echo server, or the user's program started on the listener's port
// (--backend-cmd). Shutdown must close the listener and every open
// connection; a Server with a Close method is killed with it.
type Server interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
}

// ServerFactory makes a fresh Server for a backend id. Drivers call it
// again after Stop, because a shut-down server cannot serve twice.
type ServerFactory func(id string) (Server, error)

// BackendSpec says which backends to start and what serves them. The
// backend kind is the factory's business: drivers only run what it makes.
type BackendSpec struct {
	IDs []string
	New ServerFactory
	// Echo says New makes wslb's echo server: a driver that runs every
	// backend as a process of its own runs `wslb echo` there instead.
	Echo bool
	// Broker, with Echo, is the broker those echo processes join (New
	// makes echo servers joined to it in wslb's process).
	Broker *EchoBroker
	// Command, when set, is the user's server (--backend-cmd) that New
	// runs: a driver that runs it from an image of its own (a
	// container) runs Command there instead.
	Command *Command
}

// Backends are the servers of one run, by id.
type Backends interface {
	// IDs lists the server ids in the order they were started.
	IDs() []string
	// Addr is server id's address as the proxy connects to it
	// ("HOST:PORT"; "" if unknown).
	Addr(id string) string
	// IDByAddr finds the server id at addr ("HOST:PORT"), as a proxy
	// reports it.
	IDByAddr(addr string) (string, bool)
	// Running reports whether server id is serving.
	Running(id string) bool
	// Stop takes server id down like a stopped server: listener and
	// connections are closed gracefully; new connections are refused.
	Stop(ctx context.Context, id string) error
	// Kill takes server id down like a crashed server.
	Kill(id string) error
	// Start brings a stopped server back on the same address.
	Start(ctx context.Context, id string) error
	// Pause freezes server id without closing anything (SIGSTOP, docker
	// pause); Resume lets it go on. A driver that cannot returns an
	// error that errors.Is ErrNotSupported.
	Pause(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
	// Close stops every backend (Env.Close does too). It is idempotent.
	Close() error
}

// EchoStats are one echo backend's connection counters.
type EchoStats struct {
	// Open is the WebSocket connections open now (zero while stopped).
	Open int
	// Accepted is the WebSocket connections accepted since the run
	// started, across restarts: it only grows.
	Accepted uint64
}

// EchoCounter is implemented by Backends whose echo servers run outside
// wslb's process (a process or container each, BackendSpec.Echo): the
// driver asks them for their counters. Verify reads the counters of the
// servers ServerFactory made itself.
type EchoCounter interface {
	// EchoStats returns every echo backend's counters, by id, fresh
	// from each running backend; one that cannot answer in time (paused,
	// overloaded) gives the last it reported.
	EchoStats(ctx context.Context) map[string]EchoStats
}

// ProxySpec says how to run a proxy.
type ProxySpec struct {
	// Binary is the proxy's executable, kind and version.
	Binary proxybin.Binary
	// Config is the main config file, inside the run's Dir.
	Config string
	// ReadyAddr is the listener ("HOST:PORT", one of ListenAddrs) polled
	// until it accepts TCP connections.
	ReadyAddr string
	// ReadyPath, when set, also requires an HTTP GET of this path through
	// ReadyAddr to get any HTTP response.
	ReadyPath string
	// ReadyTimeout bounds startup and reload; StopGrace is how long a
	// stop waits before killing. Zero means the driver's defaults.
	ReadyTimeout time.Duration
	StopGrace    time.Duration
}

// Proxy is the running proxy of one run.
type Proxy interface {
	// Kind is the proxy kind.
	Kind() proxybin.Kind
	// Addr is the listener it was checked on ("HOST:PORT").
	Addr() string
	// Reload makes the proxy re-read its config gracefully and returns
	// once new connections reach the new workers.
	Reload(ctx context.Context) error
	// ServerStates asks the proxy for its view of every server; a proxy
	// without a runtime API returns ErrNoServerState.
	ServerStates(ctx context.Context) ([]ServerState, error)
	// Exited is closed once the proxy has exited, by Close or on its own.
	Exited() <-chan struct{}
	// Died reports an exit the proxy made on its own, not by Close: when
	// and its exit status; ok is false while it runs or after Close.
	Died() (at time.Time, status error, ok bool)
	// Stopped reports whether the proxy is frozen (SIGSTOP, a paused
	// container): it neither serves nor exits.
	Stopped() bool
	// LogTail returns the last n lines of the proxy's output and logs.
	LogTail(n int) string
	// Close stops the proxy (Env.Close does too). It is idempotent.
	Close() error
}

// ServerState is one server as the proxy itself sees it (HAProxy's
// `show servers state`).
type ServerState struct {
	Backend string
	Name    string
	// Addr is "HOST:PORT", the address the proxy connects to.
	Addr string
	// Up is true when the proxy sends traffic to the server (operational
	// state RUNNING); a server being taken back (STARTING) or marked down
	// (STOPPED) is not up.
	Up bool
	// Pending is true while the proxy health-checks the server but has no
	// check result at hand: none has completed since its current worker
	// started (or one is under way). HAProxy counts such a server up and
	// takes it down at its first failed check, so its view of the server
	// is only settled once a result is in.
	Pending bool
	// Maint is true when the server is in maintenance (disabled in the
	// config or through the runtime API): no check brings it up.
	Maint bool
}

// ErrNoServerState is returned by ServerStates for proxies without a
// runtime API (nginx open source): their view can only be observed
// through the traffic they route.
var ErrNoServerState = errors.New("the proxy has no runtime API for server state")

// Clients are the hosts load clients connect from. In source mode every
// client has an address of its own; neighbouring clients differ in their
// /24, because nginx ip_hash keys on the /24 only.
type Clients interface {
	// Source is client i's source address.
	Source(i int) (netip.Addr, error)
	// MaxSources is how many distinct source addresses Source hands out.
	MaxSources() int
	// Dial dials addr with d from the client host holding d.LocalAddr
	// (any client host when d has none): the connection's socket lives
	// there, so it reaches what that host reaches.
	Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error)
	// Local reports whether addr is a host of the run's own network
	// (loopback, or the driver's isolated hosts), not the outside world.
	Local(addr netip.Addr) bool
}

// ErrNotSupported says a driver cannot do what was asked (pause a
// backend on loopback, say).
var ErrNotSupported = errors.New("not supported")

// NotSupported is the error a driver returns for an operation it cannot
// carry out: it names the driver and errors.Is ErrNotSupported.
func NotSupported(driver, op string) error {
	return fmt.Errorf("%s: %w by driver %s", op, ErrNotSupported, driver)
}

// ErrUnavailable says what a driver needs is missing from this machine
// (an engine that does not answer, an image that is not there, rights it
// lacks): the CLI exits 4, missing environment.
var ErrUnavailable = errors.New("driver unavailable")

// Unavailable marks err as ErrUnavailable, keeping its message.
func Unavailable(err error) error { return unavailableError{err} }

type unavailableError struct{ error }

func (e unavailableError) Unwrap() error        { return e.error }
func (e unavailableError) Is(target error) bool { return target == ErrUnavailable }
