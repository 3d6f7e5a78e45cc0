// Package brokerproc starts real message brokers for tests and demos:
// redis-server, nats-server and rabbitmq-server from Debian, each a
// process (group) on free loopback ports with its files in a directory of
// its own, and, because no Kafka broker can be installed here, franz-go's
// in-process Kafka-protocol cluster (kfake) as the Kafka "server".
//
// Every process runs in the sandbox the proxies run in (its own PID
// namespace and process group, read-only file system but for its
// directory, SIGKILL when wslb dies): when it stops, everything it spawned
// (RabbitMQ's epmd and Erlang helpers too) goes with it. Stop stops it and
// keeps its address, so that Start brings it back where the nodes look for
// it (a broker restart); Close stops it for good and removes its
// directory.
package brokerproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/internal/sandbox"
)

// Server is a broker wslb started.
type Server interface {
	Kind() broker.Kind
	// URL is what broker.Config.URL takes to reach it.
	URL() string
	// Addr is its client address, 127.0.0.1:PORT.
	Addr() string
	// Stop stops the broker, keeping its address and directory for
	// Start. Idempotent.
	Stop() error
	// Start starts it again after Stop, on the same address, and waits
	// until it is ready.
	Start(ctx context.Context) error
	// Close stops it for good and removes its directory. Idempotent.
	Close() error
}

// Restart stops s and starts it again: what a broker restart looks like
// to the nodes.
func Restart(ctx context.Context, s Server) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Start starts a broker of the kind on free loopback ports, its files in
// a new directory below parent (os.TempDir() when empty), and waits until
// it is ready. On error nothing is left running or on disk.
func Start(ctx context.Context, kind broker.Kind, parent string) (Server, error) {
	return StartAt(ctx, kind, parent, Place{})
}

// Place is where a broker runs: on loopback in wslb's network namespace
// (the zero Place), or on a host of its own in a run's network.
type Place struct {
	// Host is the address it listens on; the zero Addr is 127.0.0.1.
	Host netip.Addr
	// NetNS is the network namespace its process runs in (a path for
	// setns(2)); empty: wslb's.
	NetNS string
	// Dial reaches it for the readiness probes; nil dials from wslb's
	// network namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Listen makes a listener where it runs, for the broker that runs in
	// wslb's process (Kafka); nil listens in wslb's network namespace.
	Listen func(network, addr string) (net.Listener, error)
}

func (pl Place) host() string {
	if !pl.Host.IsValid() {
		return "127.0.0.1"
	}
	return pl.Host.String()
}

// loopback reports whether the broker listens on loopback (where RabbitMQ
// lets its guest user in).
func (pl Place) loopback() bool { return !pl.Host.IsValid() || pl.Host.IsLoopback() }

func (pl Place) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if pl.Dial != nil {
		return pl.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// StartAt is Start on place.
func StartAt(ctx context.Context, kind broker.Kind, parent string, place Place) (Server, error) {
	switch kind {
	case broker.Redis:
		return StartRedisAt(ctx, parent, place)
	case broker.NATS:
		return startNATS(ctx, parent, place)
	case broker.RabbitMQ:
		return startRabbitMQ(ctx, parent, place)
	case broker.Kafka:
		return startKafka(ctx, parent, place)
	}
	_, err := broker.ParseKind(string(kind))
	return nil, err
}

const (
	readyPoll = 50 * time.Millisecond
	tailLines = 15
)

// proc is one broker process, started again on the same ports after a
// Stop.
type proc struct {
	kind  broker.Kind
	place Place
	dir   string // its own directory, removed by Close
	addr  string
	url   string
	log   string // its output
	spec  func() (sandbox.Spec, error)
	ready func(ctx context.Context) error
	// readyTimeout bounds a start; grace bounds a stop before SIGKILL.
	readyTimeout, grace time.Duration

	mu     sync.Mutex
	cmd    *sandbox.Cmd
	done   chan struct{}
	closed bool
}

func (p *proc) Kind() broker.Kind { return p.kind }
func (p *proc) URL() string       { return p.url }
func (p *proc) Addr() string      { return p.addr }

// Dir is the broker's own directory (Close removes it).
func (p *proc) Dir() string { return p.dir }

// Start starts the process and waits for ready.
func (p *proc) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("%s: closed", p.kind)
	}
	if p.cmd != nil {
		return fmt.Errorf("%s: already running", p.kind)
	}
	spec, err := p.spec()
	if err != nil {
		return fmt.Errorf("%s: %w", p.kind, err)
	}
	spec.Dir, spec.SharedNet, spec.NetNS = p.dir, true, p.place.NetNS
	out, err := sandbox.CreateOutput(p.log)
	if err != nil {
		return fmt.Errorf("%s: %w", p.kind, err)
	}
	defer out.Close()
	cmd, err := sandbox.Command(spec)
	if err != nil {
		return fmt.Errorf("%s: %w", p.kind, err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start %s: %w", p.kind, spec.Binary, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done

	rctx, cancel := context.WithTimeout(ctx, p.readyTimeout)
	defer cancel()
	for {
		err := p.ready(rctx)
		if err == nil {
			return nil
		}
		select {
		case <-done:
			p.cmd = nil
			return fmt.Errorf("%s exited at start: %s", p.kind, p.tail())
		case <-rctx.Done():
			p.stopLocked()
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", p.kind, ctx.Err())
			}
			return fmt.Errorf("%s not ready within %s (%v): %s", p.kind, p.readyTimeout, err, p.tail())
		case <-time.After(readyPoll):
		}
	}
}

// tail quotes the end of the process's output.
func (p *proc) tail() string {
	lines := safefile.TailLines(p.log, tailLines)
	if len(lines) == 0 {
		return "(no output)"
	}
	return strings.Join(lines, " | ")
}

func (p *proc) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
	return nil
}

// stopLocked sends SIGTERM to the process group, SIGKILL after the grace,
// and waits for the process.
func (p *proc) stopLocked() {
	if p.cmd == nil {
		return
	}
	pid := p.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(p.grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
	// The box's init is gone, so is every process of its PID namespace;
	// without namespaces (--unsandboxed) the group kill is what remains.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	p.cmd = nil
}

func (p *proc) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	p.stopLocked()
	if err := os.RemoveAll(p.dir); err != nil {
		return fmt.Errorf("%s: remove %s: %w", p.kind, p.dir, err)
	}
	return nil
}

// newDir makes the broker's own directory below parent.
func newDir(parent string, kind broker.Kind) (string, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "wslb-"+string(kind)+"-")
	if err != nil {
		return "", fmt.Errorf("%s: %w", kind, err)
	}
	return dir, nil
}

// freePorts returns n distinct free loopback ports. Another process may
// take one before the broker binds it: callers try again (startFresh).
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startFresh makes a directory, then builds (with n free ports) and
// starts a proc, trying new ports when a start fails: a port may be
// taken between pick and bind. On error the directory is removed.
// It returns a Server, nil on error (never a nil *proc in an interface).
func startFresh(ctx context.Context, kind broker.Kind, parent string, n int, build func(dir string, ports []int) *proc) (Server, error) {
	var last error
	for range 3 {
		dir, err := newDir(parent, kind)
		if err != nil {
			return nil, err
		}
		ports, err := freePorts(n)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		p := build(dir, ports)
		if last = p.Start(ctx); last == nil {
			return p, nil
		}
		p.Close()
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

// errNotFound builds the error for a missing broker binary.
func errNotFound(bin, pkg string) error {
	return fmt.Errorf("%s not found in PATH, /usr/sbin or /usr/bin (install it: apt-get install %s): %w", bin, pkg, ErrMissing)
}

// ErrMissing is wrapped by every error that says a broker is not installed.
var ErrMissing = errors.New("broker not installed")

// find locates a broker binary: in PATH, then in dirs, /usr/sbin and
// /usr/bin (root's PATH may lack sbin).
func find(bin, pkg string, dirs ...string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return filepath.Abs(p)
	}
	for _, d := range append(dirs, "/usr/sbin", "/usr/bin") {
		p := d + "/" + bin
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errNotFound(bin, pkg)
}

// Ready reports whether a Redis or NATS broker at addr answers a client
// as a ready one does (PING, the INFO greeting); for other kinds, whether
// addr accepts a connection. Drivers that run a broker themselves (a
// container) poll it.
func Ready(ctx context.Context, kind broker.Kind, addr string) error {
	switch kind {
	case broker.Redis:
		return redisPing(ctx, Place{}, addr)
	case broker.NATS:
		return natsInfo(ctx, Place{}, addr)
	}
	c, err := Place{}.dial(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
