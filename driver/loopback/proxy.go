package loopback

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/internal/sandbox"
	"github.com/wslb/wslb/proxy"
)

// Defaults for ProxyOptions.
const (
	DefaultReadyTimeout = 15 * time.Second
	DefaultStopGrace    = 5 * time.Second
	pollInterval        = 25 * time.Millisecond
	logTailLines        = 30
)

// ProxyOptions says how to run a proxy binary.
type ProxyOptions struct {
	Kind proxybin.Kind
	// Binary is the executable; empty means proxybin.Lookup(Kind).
	Binary string
	// Config is the main config file. nginx resolves relative paths in it
	// against Dir (its -p prefix).
	Config string
	// Dir is the scratch dir: the proxy's output log, pid file, HAProxy's
	// master CLI socket and nginx's startup error log go here.
	Dir string
	// ReadyAddr is the listener address ("127.0.0.1:PORT") polled until it
	// accepts TCP connections.
	ReadyAddr string
	// ReadyPath, when set, also requires an HTTP GET of this path through
	// ReadyAddr to get any HTTP response (e.g. "/healthz").
	ReadyPath string
	// ReadyTimeout bounds startup and reload; default DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// StopGrace is how long Close waits after SIGTERM before SIGKILL;
	// default DefaultStopGrace.
	StopGrace time.Duration
	// NetNS, when set, is the network namespace the proxy runs in (a
	// path such as /run/netns/NAME) instead of this process's, and Dial
	// reaches ReadyAddr from where the readiness probes can (nil: this
	// process's namespace). The netns driver runs its proxy host so.
	NetNS string
	Dial  func(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error)
}

// dial is Dial, or a dial from this process's namespace.
func (o ProxyOptions) dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	if o.Dial != nil {
		return o.Dial(ctx, d, network, addr)
	}
	return d.DialContext(ctx, network, addr)
}

// Proxy is a running haproxy (master-worker) or nginx (master process) in
// its own process group, started in the foreground as a child of wslb.
type Proxy struct {
	opts    ProxyOptions
	cmd     *exec.Cmd
	pid     int
	logPath string
	// errorLogs are the proxy's error logs (nginx's) scanned for reload
	// failures; masterSock is its master CLI (HAProxy's), if any.
	errorLogs  []string
	masterSock string
	reload     proxy.Reload

	// exit is the master's: recorded once it is reaped, expected once
	// Close begins.
	exit *Exit

	reloadMu  sync.Mutex
	closeOnce sync.Once
	closeErr  error
}

// StartProxy starts the proxy and waits until it accepts connections on
// ReadyAddr. If ctx is cancelled at any time (now or later) the proxy is torn
// down as by Close. On any error the process is already torn down.
func StartProxy(ctx context.Context, opts ProxyOptions) (*Proxy, error) {
	if opts.Config == "" || opts.Dir == "" || opts.ReadyAddr == "" {
		return nil, errors.New("start proxy: Config, Dir and ReadyAddr are required")
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	if opts.Binary == "" {
		bin, err := proxybin.Lookup(opts.Kind)
		if err != nil {
			return nil, err
		}
		opts.Binary = bin.Path
	}
	cfg, err := filepath.Abs(opts.Config)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Kind, err)
	}
	opts.Config = cfg
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Kind, err)
	}
	opts.Dir = dir

	p := &Proxy{opts: opts, exit: NewExit(), logPath: filepath.Join(dir, string(opts.Kind)+".log")}
	args, err := p.args()
	if err != nil {
		return nil, err
	}
	logFile, err := sandbox.CreateOutput(p.logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Kind, err)
	}
	defer logFile.Close() // the child keeps its own copy

	// The proxy shares this process's network namespace: verify runs in
	// one of its own (sandbox.RunInNamespace), where its backends and
	// clients live too.
	cmd, err := sandbox.Command(sandbox.Spec{Binary: opts.Binary, Args: args, Dir: dir, SharedNet: true, NetNS: opts.NetNS, Root: proxybin.RootOf(opts.Binary)})
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Kind, err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opts.Binary, err)
	}
	p.cmd = cmd.Cmd
	p.pid = cmd.Process.Pid
	go p.wait()
	// Not context.AfterFunc: its stop function would be shared with Close,
	// which an already-cancelled ctx runs at once.
	go func() {
		select {
		case <-ctx.Done():
			p.Close()
		case <-p.exit.Exited():
		}
	}()

	if err := p.waitReady(ctx); err != nil {
		tail := p.LogTail(logTailLines)
		// Not serving yet, so nothing to drain; and a master that is a PID
		// namespace's init ignores SIGTERM until it installs its handler.
		if !isClosed(p.exit.Exited()) {
			_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		}
		p.Close()
		return nil, fmt.Errorf("start %s: %w%s", opts.Kind, err, formatTail(tail))
	}
	return p, nil
}

// ErrAddrInUse says the proxy could not bind a listen address: another
// program took the port after it was picked. Render the config with fresh
// ports and start again. It errors.Is syscall.EADDRINUSE, as a bind in
// this process would fail, so callers need not know the driver.
var ErrAddrInUse error = addrInUseError{}

// addrInUseError is read from the proxy's own log: the proxy is another
// process, so its bind error reaches wslb only as text.
type addrInUseError struct{}

func (addrInUseError) Error() string        { return "a listen address is already in use" }
func (addrInUseError) Is(target error) bool { return target == syscall.EADDRINUSE }

var addrInUse = regexp.MustCompile(`(?i)address already in use|cannot bind socket|could not bind`)

// args asks the proxy's descriptor how to run it, and keeps what the
// plan says about reloading and logs.
func (p *Proxy) args() ([]string, error) {
	o := p.opts
	d, ok := proxy.Lookup(string(o.Kind))
	if !ok || d.Run == nil {
		return nil, fmt.Errorf("start proxy: unknown kind %q", o.Kind)
	}
	plan, err := d.Run(proxy.RunRequest{Binary: o.Binary, Config: o.Config, Dir: o.Dir})
	if err != nil {
		return nil, err
	}
	p.masterSock = plan.MasterSocket
	p.errorLogs = append(p.errorLogs, plan.ErrorLogs...)
	p.reload = plan.Reload
	return plan.Args, nil
}

// wait notices the master's exit without reaping it, kills whatever is left
// in its process group (orphaned workers), then reaps it. While the master
// is an unreaped zombie its pid, and so the group id, cannot be reused, so
// the group kill cannot hit a stranger.
func (p *Proxy) wait() {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	at := time.Now()
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	p.exit.Record(at, p.cmd.Wait())
}

func (p *Proxy) waitReady(ctx context.Context) error {
	deadline := time.NewTimer(p.opts.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var last error
	for {
		if last = p.probe(ctx); last == nil {
			last = p.masterReady()
		}
		if last == nil {
			if listenerOwned(p.opts.ReadyAddr, p.Pids()) {
				return nil
			}
			last = fmt.Errorf("%s is held by another program", p.opts.ReadyAddr)
		}
		select {
		case <-p.exit.Exited():
			if addrInUse.MatchString(p.LogTail(logTailLines)) {
				return fmt.Errorf("exited during startup (%v): %w", p.exit.Err(), ErrAddrInUse)
			}
			return fmt.Errorf("exited during startup (%v)", p.exit.Err())
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("not ready on %s after %s: %v", p.opts.ReadyAddr, p.opts.ReadyTimeout, last)
		case <-tick.C:
		}
	}
}

// masterReady checks that the master CLI, when the proxy has one, accepts
// connections: HAProxy's master can serve the listener through its workers
// before it listens on the CLI, and server states and reloads need it.
func (p *Proxy) masterReady() error {
	if p.masterSock == "" {
		return nil
	}
	c, err := net.Dial("unix", p.masterSock)
	if err != nil {
		return fmt.Errorf("master CLI: %w", err)
	}
	return c.Close()
}

// probe checks once that the listener accepts, and answers HTTP when
// ReadyPath is set.
func (p *Proxy) probe(ctx context.Context) error {
	d := &net.Dialer{Timeout: 500 * time.Millisecond}
	conn, err := p.opts.dial(ctx, d, "tcp", p.opts.ReadyAddr)
	if err != nil {
		return err
	}
	conn.Close()
	if p.opts.ReadyPath == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.opts.ReadyAddr+p.opts.ReadyPath, nil)
	if err != nil {
		return err
	}
	client := http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.opts.dial(ctx, d, network, addr)
		}}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("GET %s: %s", p.opts.ReadyPath, resp.Status)
	}
	return nil
}

// Pid is the master process id (also the process group id).
func (p *Proxy) Pid() int { return p.pid }

// Kind is the proxy kind.
func (p *Proxy) Kind() proxybin.Kind { return p.opts.Kind }

// Addr is the listener address the proxy was checked on.
func (p *Proxy) Addr() string { return p.opts.ReadyAddr }

// Exited is closed when the master process has exited (by Close or on its
// own, e.g. a crash); Err then tells how.
func (p *Proxy) Exited() <-chan struct{} { return p.exit.Exited() }

// Err is the master's exit status once Exited is closed, else nil.
func (p *Proxy) Err() error { return p.exit.Err() }

// Died reports an exit the proxy made on its own, not by Close: when, and
// its exit status. ok is false while it runs or when Close stopped it.
func (p *Proxy) Died() (at time.Time, status error, ok bool) { return p.exit.Died() }

// Stopped reports whether the master is stopped (SIGSTOP, a tracer): it
// neither serves nor exits, though the kernel still completes TCP
// handshakes on its listeners.
func (p *Proxy) Stopped() bool {
	st, err := readProcStat(p.pid)
	return err == nil && (st.state == 'T' || st.state == 't')
}

// Workers lists the master's live worker processes: after a reload this
// includes old workers still draining connections.
func (p *Proxy) Workers() []int { return childrenOf(p.pid) }

// Pids lists every live process of the proxy: the master, current and old
// workers (its process group).
func (p *Proxy) Pids() []int { return groupMembers(p.pid) }

// LogPath is the file holding the proxy's stdout and stderr.
func (p *Proxy) LogPath() string { return p.logPath }

// LogTail returns the last n lines of the proxy's output and, for nginx,
// of its error logs.
func (p *Proxy) LogTail(n int) string {
	var parts []string
	for _, path := range append([]string{p.logPath}, p.errorLogs...) {
		if t := tailFile(path, n); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// Close tears the proxy down: SIGTERM to its process group, SIGKILL after
// StopGrace, the master reaped, and no process of the group left. It is
// idempotent and safe to call concurrently (e.g. from a cancelled context).
func (p *Proxy) Close() error {
	if p == nil {
		return nil
	}
	p.closeOnce.Do(func() { p.closeErr = p.teardown() })
	return p.closeErr
}

func (p *Proxy) teardown() error {
	p.exit.Expect()
	select {
	case <-p.exit.Exited():
	default:
		_ = syscall.Kill(-p.pid, syscall.SIGTERM)
		select {
		case <-p.exit.Exited():
		case <-time.After(p.opts.StopGrace):
			_ = syscall.Kill(-p.pid, syscall.SIGKILL)
			select {
			case <-p.exit.Exited():
			case <-time.After(p.opts.StopGrace):
				return fmt.Errorf("stop %s (pid %d): did not exit after SIGKILL", p.opts.Kind, p.pid)
			}
		}
	}
	// Workers orphaned by a killed master were sent SIGKILL in wait(); give
	// the kernel a moment to finish them.
	deadline := time.Now().Add(p.opts.StopGrace)
	for {
		left := groupMembers(p.pid)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("stop %s: processes %v still running", p.opts.Kind, left)
		}
		time.Sleep(pollInterval)
	}
}

func tailFile(path string, n int) string {
	return strings.TrimSpace(strings.Join(safefile.TailLines(path, n), "\n"))
}

func formatTail(tail string) string {
	if tail == "" {
		return ""
	}
	return "\n--- proxy log (last lines) ---\n" + tail
}
