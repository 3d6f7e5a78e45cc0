package loopback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/echo"
)

// Backend is a server run on a listener the driver owns (driver.Server).
type Backend = driver.Server

// BackendFactory makes a fresh backend for a server id (driver.ServerFactory).
// Start calls it again after Stop, because a shut-down server cannot serve
// twice.
type BackendFactory = driver.ServerFactory

// EchoBackend is the default BackendFactory: wslb's echo server.
func EchoBackend(id string) (Backend, error) {
	return echo.New(echo.Config{ID: id})
}

// rebindAttempts bounds how often Start retries binding a backend's port
// when something else holds it (a connection in the kernel's cleanup, or a
// foreign process that grabbed the port while the backend was down).
const (
	rebindAttempts = 20
	rebindDelay    = 50 * time.Millisecond
	// backendStop bounds a graceful Stop: peers that do not answer the
	// close frame by then are dropped.
	backendStop = 2 * time.Second
)

// Backends are the in-process servers of one run, one per server id, each on
// its own loopback port that stays the same across Stop and Start so the
// proxy config keeps pointing at it.
type Backends struct {
	factory BackendFactory

	mu    sync.Mutex
	order []string
	byID  map[string]*backendSlot
}

type backendSlot struct {
	id   string
	port int
	srv  Backend
	done chan struct{} // closed when Serve returns; nil while stopped
	// held keeps the port bound, not listening, while stopped (holdPort).
	held *os.File
}

// StartBackends starts one backend per id on a free loopback port; a nil
// factory means EchoBackend. On error the backends already started are
// stopped.
func StartBackends(ids []string, factory BackendFactory) (*Backends, error) {
	if factory == nil {
		factory = EchoBackend
	}
	b := &Backends{factory: factory, byID: make(map[string]*backendSlot, len(ids))}
	for _, id := range ids {
		if _, dup := b.byID[id]; dup {
			b.Close()
			return nil, fmt.Errorf("start backends: duplicate server id %q", id)
		}
		ln, err := listenFree()
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("start backend %s: %w", id, err)
		}
		s := &backendSlot{id: id, port: ln.Addr().(*net.TCPAddr).Port}
		b.byID[id] = s
		b.order = append(b.order, id)
		if err := b.serve(s, ln); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

func (b *Backends) serve(s *backendSlot, ln net.Listener) error {
	srv, err := b.factory(s.id)
	if err != nil {
		ln.Close()
		return fmt.Errorf("start backend %s: %w", s.id, err)
	}
	s.srv = srv
	s.done = make(chan struct{})
	go func(srv Backend, done chan struct{}) {
		defer close(done)
		// ErrServerClosed (or a closed listener) is the normal end.
		_ = srv.Serve(ln)
	}(s.srv, s.done)
	return nil
}

// IDs lists the server ids in the order given to StartBackends.
func (b *Backends) IDs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.order...)
}

// Port is the loopback port of server id (0 if unknown).
func (b *Backends) Port(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.byID[id]; ok {
		return s.port
	}
	return 0
}

// Addr is "HOST:PORT" of server id ("" if unknown).
func (b *Backends) Addr(id string) string {
	p := b.Port(id)
	if p == 0 {
		return ""
	}
	return netip.AddrPortFrom(host, uint16(p)).String()
}

// Ports maps every server id to its port.
func (b *Backends) Ports() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]int, len(b.byID))
	for id, s := range b.byID {
		m[id] = s.port
	}
	return m
}

// IDByAddr finds the server id listening on addr ("HOST:PORT"), as a
// proxy reports it in $upstream_addr.
func (b *Backends) IDByAddr(addr string) (string, bool) {
	_, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, s := range b.byID {
		if s.port == port {
			return id, true
		}
	}
	return "", false
}

// Running reports whether server id is serving.
func (b *Backends) Running(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.byID[id]
	return ok && s.done != nil
}

// Stop takes server id down like a stopped server: its listener and every
// open connection are closed (the echo server sends WebSockets a 1001 close
// and drops peers that do not answer within two seconds), so new
// connections to its port are refused. Stopping a stopped server is a no-op.
func (b *Backends) Stop(ctx context.Context, id string) error {
	return b.stop(ctx, id, false)
}

// Kill takes server id down like a crashed server: listener and connections
// are closed at once, without close frames (when the backend has a Close
// method; otherwise as Stop).
func (b *Backends) Kill(id string) error {
	return b.stop(context.Background(), id, true)
}

func (b *Backends) stop(ctx context.Context, id string, abrupt bool) error {
	b.mu.Lock()
	s, ok := b.byID[id]
	if !ok {
		b.mu.Unlock()
		return fmt.Errorf("stop backend: unknown server %q", id)
	}
	srv, done := s.srv, s.done
	s.srv, s.done = nil, nil
	b.mu.Unlock()
	if done == nil {
		return nil
	}
	var err error
	if c, ok := srv.(io.Closer); ok && abrupt {
		err = c.Close()
	} else {
		sctx, cancel := context.WithTimeout(ctx, backendStop)
		err = srv.Shutdown(sctx)
		cancel()
		// Our own deadline passing only means slow peers were dropped.
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = nil
		}
	}
	select {
	case <-done:
	case <-time.After(backendStop):
		return fmt.Errorf("stop backend %s: still serving after shutdown", id)
	}
	// Best effort: without it, Start binds the port again and may lose
	// it to another process in between.
	if held, herr := holdPort(netip.AddrPortFrom(host, uint16(s.port))); herr == nil {
		b.mu.Lock()
		s.held = held
		b.mu.Unlock()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop backend %s: %w", id, err)
	}
	return nil
}

// Start brings a stopped server back on the same port: it listens on the
// socket Stop kept bound; where that failed, it binds again, retrying for
// about a second while something else holds the port. Starting a running
// server is a no-op.
func (b *Backends) Start(ctx context.Context, id string) error {
	b.mu.Lock()
	s, ok := b.byID[id]
	if !ok {
		b.mu.Unlock()
		return fmt.Errorf("start backend: unknown server %q", id)
	}
	if s.done != nil {
		b.mu.Unlock()
		return nil
	}
	port, held := s.port, s.held
	s.held = nil
	b.mu.Unlock()

	addr := netip.AddrPortFrom(host, uint16(port)).String()
	var ln net.Listener
	var err error
	if held != nil {
		ln, err = listenHeld(held)
	}
	for attempt := 0; ln == nil && attempt < rebindAttempts; attempt++ {
		// Go's Listen sets SO_REUSEADDR, so sockets of the previous life
		// in TIME_WAIT do not block the bind; only a live listener does.
		ln, err = listenTCP(addr)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("start backend %s on %s: %w", id, addr, ctx.Err())
		case <-time.After(rebindDelay):
		}
	}
	if err != nil {
		return fmt.Errorf("start backend %s again on %s (port taken?): %w", id, addr, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.done != nil { // raced with another Start
		ln.Close()
		return nil
	}
	return b.serve(s, ln)
}

// Pause would freeze server id; in-process servers cannot be frozen apart
// from wslb itself, so it is not supported.
func (b *Backends) Pause(_ context.Context, id string) error {
	return driver.NotSupported(Name, "pause backend "+id)
}

// Resume is not supported either (see Pause).
func (b *Backends) Resume(_ context.Context, id string) error {
	return driver.NotSupported(Name, "resume backend "+id)
}

// Close stops every backend. It is idempotent and safe on a nil receiver.
func (b *Backends) Close() error {
	if b == nil {
		return nil
	}
	var errs []error
	for _, id := range b.IDs() {
		if err := b.Stop(context.Background(), id); err != nil {
			errs = append(errs, err)
		}
	}
	b.mu.Lock()
	for _, s := range b.byID {
		if s.held != nil {
			s.held.Close()
			s.held = nil
		}
	}
	b.mu.Unlock()
	return errors.Join(errs...)
}
