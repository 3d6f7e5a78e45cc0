package netns

import (
	"bufio"
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

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/roster"
)

// Bounds of a backend process's life.
const (
	backendReady = 10 * time.Second
	// backendStop is how long a stop waits for the echo server to close
	// its connections (it gives peers 2 s) before killing it.
	backendStop = 4 * time.Second
)

// Backends are the servers of a run, each in its own host with an
// address of its own: wslb's echo server as a process of its own (joined
// to the run's broker, if any), or what the spec's factory makes (the
// user's --backend-cmd process, started inside the host).
type Backends struct {
	scratch string
	echo    bool
	broker  *driver.EchoBroker
	factory driver.ServerFactory
	roster  roster.Roster[*backend]
}

var _ driver.Backends = (*Backends)(nil)

type backend struct {
	id   string
	host *host
	addr netip.AddrPort

	mu     sync.Mutex
	cmd    *exec.Cmd     // the echo process
	srv    driver.Server // or the factory's server
	exited chan struct{} // closed once it has ended; nil while stopped
	paused bool

	// statsMu guards the counters apart from mu, which a stop holds
	// while it waits for the process to exit.
	statsMu sync.Mutex
	link    *statsLink // the running process's; nil while stopped
	retired uint64     // connections accepted by processes that exited
}

// StartBackends makes one host per id and starts its server there:
// wslb's echo server as a process of its own, or the spec's server (the
// user's process started inside the host; a server of wslb's process
// serves on a listener made there).
func (e *Env) StartBackends(ctx context.Context, spec driver.BackendSpec) (driver.Backends, error) {
	if !spec.Echo && spec.New == nil {
		return nil, errors.New("start backends: no server to run")
	}
	e.mu.Lock()
	if e.backends != nil {
		e.mu.Unlock()
		return nil, errors.New("start backends: this run has its backends already")
	}
	b := &Backends{scratch: e.scratch.Dir, echo: spec.Echo, broker: spec.Broker, factory: spec.New}
	e.backends = b
	e.mu.Unlock()
	port := randomPort()
	for i, id := range spec.IDs {
		h, err := e.plug(fmt.Sprintf("b%d", i), backendAddr(i))
		if err != nil {
			return nil, err
		}
		s := &backend{id: id, host: h, addr: netip.AddrPortFrom(backendAddr(i), port)}
		if err := b.roster.Add(id, s.addr, s); err != nil {
			return nil, err
		}
	}
	// The processes start side by side: most of a start is the binary's.
	errs := make([]error, len(spec.IDs))
	var wg sync.WaitGroup
	for i, id := range spec.IDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = b.Start(ctx, id)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if spec.Echo {
		if err := e.reachFromProxy(ctx, b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// reachFromProxy connects to every backend from the proxy's host: the
// proxy's first health checks, whose connect is bounded by their interval
// (50 ms with fast checks), must not be what brings the path up (the
// veths' carrier, the bridge ports, each end learning the other's link
// address). A server listening is not enough: it must be reachable from
// where the proxy runs.
func (e *Env) reachFromProxy(ctx context.Context, b *Backends) error {
	for _, id := range b.IDs() {
		d := &net.Dialer{Timeout: backendReady}
		c, err := e.proxy.dial(ctx, d, "tcp", b.Addr(id))
		if err != nil {
			return fmt.Errorf("start backend %s: not reachable from the proxy's host: %w", id, err)
		}
		_ = c.Close()
	}
	return nil
}

func (b *Backends) get(id string) (*backend, error) { return b.roster.Get(id) }

// IDs lists the server ids in the order they were started.
func (b *Backends) IDs() []string { return b.roster.IDs() }

// Addr is server id's address ("" if unknown).
func (b *Backends) Addr(id string) string { return b.roster.Addr(id) }

// IDByAddr finds the server at addr.
func (b *Backends) IDByAddr(addr string) (string, bool) { return b.roster.IDByAddr(addr) }

// Running reports whether server id is serving: its process runs and is
// not paused (as on docker).
func (b *Backends) Running(id string) bool {
	s, err := b.get(id)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exited != nil && !isClosed(s.exited) && !s.paused
}

// Pid is server id's process id (0 while stopped).
func (b *Backends) Pid(id string) int {
	s, err := b.get(id)
	if err != nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Start starts server id's process in its host, on its address, and
// waits until it listens. Starting a running server is a no-op.
func (b *Backends) Start(ctx context.Context, id string) error {
	s, err := b.get(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited != nil && !isClosed(s.exited) {
		return nil
	}
	if !b.echo {
		return b.startServer(s)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start backend %s: %w", id, err)
	}
	logf, err := os.OpenFile(filepath.Join(b.scratch, "backend-"+id+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start backend %s: %w", id, err)
	}
	defer logf.Close()
	cmd := exec.Command(self)
	cmd.Args = []string{"wslb-echo", id}
	cmd.Env = []string{echoEnv + "=" + id, listenEnv + "=" + s.addr.String()}
	if br := b.broker; br != nil {
		cmd.Env = append(cmd.Env, brokerKindEnv+"="+br.Kind, brokerURLEnv+"="+br.URL,
			brokerChannelEnv+"="+strings.ReplaceAll(br.Channel, "{id}", id))
	}
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start backend %s: %w", id, err)
	}
	req, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("start backend %s: %w", id, err)
	}
	// Its own process group, so that a terminal's Ctrl-C reaches wslb
	// alone; and killed if the thread that started it ends (the run).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if rerr := s.host.run(func() { err = cmd.Start() }); rerr != nil {
		return rerr
	}
	if err != nil {
		return fmt.Errorf("start backend %s: %w", id, err)
	}
	exited := make(chan struct{})
	s.cmd, s.exited, s.paused = cmd, exited, false
	link := newStatsLink(req)
	s.follow(link)
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		l, _ := r.ReadString('\n')
		line <- l
		// The rest is the process's counters (stats.go). Wait closes
		// the pipe: only once every read is done.
		for {
			l, err := r.ReadString('\n')
			link.record(l)
			if br := b.broker; br != nil && br.OnState != nil {
				if ev, ok := parseBrokerLine(id, l, time.Now()); ok {
					br.OnState(ev)
				}
			}
			if err != nil {
				break
			}
		}
		_ = cmd.Wait()
		s.retire(link)
		close(exited)
	}()
	timer := time.NewTimer(backendReady)
	defer timer.Stop()
	select {
	case l := <-line:
		if strings.HasPrefix(l, readyLine) {
			return nil
		}
		<-exited
		return fmt.Errorf("start backend %s: exited (%v) before listening on %s: %s", id, cmd.ProcessState, s.addr, tail(b.scratch, id))
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = fmt.Errorf("not listening on %s after %s", s.addr, backendReady)
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("start backend %s: %w", id, err)
}

// startServer starts the factory's server for s inside its host and
// returns at once: whether it is ready is the caller's to check (the
// user's server answers its health path).
func (b *Backends) startServer(s *backend) error {
	srv, err := b.factory(s.id)
	if err != nil {
		return fmt.Errorf("start backend %s: %w", s.id, err)
	}
	exited := make(chan struct{})
	if hs, ok := srv.(driver.HostedServer); ok {
		go func() {
			defer close(exited)
			_ = hs.ServeHosted(s.addr, s.host.path())
		}()
	} else {
		// A server of wslb's process: its listener, and so every
		// connection it accepts, lives in the host's namespace.
		var ln net.Listener
		var lerr error
		if err := s.host.run(func() { ln, lerr = net.Listen("tcp", s.addr.String()) }); err != nil {
			return err
		}
		if lerr != nil {
			return fmt.Errorf("start backend %s: %w", s.id, lerr)
		}
		go func() {
			defer close(exited)
			_ = srv.Serve(ln)
		}()
	}
	s.srv, s.exited, s.paused = srv, exited, false
	return nil
}

func tail(dir, id string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "backend-"+id+".log"))
	return strings.TrimSpace(string(b[max(0, len(b)-500):]))
}

// Stop takes server id down gracefully: SIGTERM (the echo server sends
// its WebSockets a close frame), SIGKILL if it lingers.
func (b *Backends) Stop(_ context.Context, id string) error {
	return b.stop(id, syscall.SIGTERM)
}

// Kill takes server id down like a crash: SIGKILL.
func (b *Backends) Kill(id string) error { return b.stop(id, syscall.SIGKILL) }

func (b *Backends) stop(id string, sig syscall.Signal) error {
	s, err := b.get(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return nil
	}
	if s.srv != nil {
		s.stopServer(sig == syscall.SIGKILL)
		return nil
	}
	p := s.cmd.Process
	_ = p.Signal(sig)
	if s.paused && sig != syscall.SIGKILL {
		_ = p.Signal(syscall.SIGCONT) // a stopped process handles no SIGTERM
	}
	select {
	case <-s.exited:
	case <-time.After(backendStop):
		_ = p.Kill()
		<-s.exited
	}
	s.cmd, s.exited, s.paused = nil, nil, false
	return nil
}

// stopServer stops the factory's server: Close when abrupt (and it has
// one), else Shutdown bounded by backendStop; then waits until it ended.
func (s *backend) stopServer(abrupt bool) {
	if s.paused {
		if sg, ok := s.srv.(driver.Signaler); ok {
			_ = sg.Resume() // a stopped process handles no SIGTERM
		}
	}
	c, closer := s.srv.(interface{ Close() error })
	if abrupt && closer {
		_ = c.Close()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), backendStop)
		_ = s.srv.Shutdown(ctx)
		cancel()
	}
	select {
	case <-s.exited:
	case <-time.After(backendStop):
		if closer {
			_ = c.Close()
		}
		<-s.exited
	}
	s.srv, s.exited, s.paused = nil, nil, false
}

// Pause freezes server id (SIGSTOP): its connections stay open and
// nothing answers.
func (b *Backends) Pause(_ context.Context, id string) error {
	return b.signal(id, syscall.SIGSTOP, true)
}

// Resume lets a paused server go on (SIGCONT).
func (b *Backends) Resume(_ context.Context, id string) error {
	return b.signal(id, syscall.SIGCONT, false)
}

func (b *Backends) signal(id string, sig syscall.Signal, paused bool) error {
	s, err := b.get(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exited == nil {
		return fmt.Errorf("backend %s is not running", id)
	}
	if s.srv != nil {
		sg, ok := s.srv.(driver.Signaler)
		if !ok {
			return driver.NotSupported(Name, "pausing a server of wslb's process")
		}
		f := sg.Resume
		if paused {
			f = sg.Pause
		}
		if err := f(); err != nil {
			return err
		}
		s.paused = paused
		return nil
	}
	if paused {
		s.markPaused(true) // asked now, it would not answer
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("backend %s: %w", id, err)
	}
	s.paused = paused
	if !paused {
		s.markPaused(false)
	}
	// The signal is delivered asynchronously: a fault starts when the
	// process has stopped (or runs again), not before.
	for range 200 {
		if stopped(s.cmd.Process.Pid) == paused {
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("backend %s: still %s after %v", id, map[bool]string{true: "running", false: "stopped"}[paused], sig)
}

// stopped reports whether pid is stopped by a signal.
func stopped(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'T' || s[i+2] == 't')
}

// Close kills every backend. It is idempotent and safe on nil.
func (b *Backends) Close() error {
	if b == nil {
		return nil
	}
	var errs []error
	for _, id := range b.IDs() {
		errs = append(errs, b.Kill(id))
	}
	return errors.Join(errs...)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
