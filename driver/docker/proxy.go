package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy"
)

// Defaults for a ProxySpec's zero timings.
const (
	defaultReadyTimeout = 30 * time.Second
	defaultStopGrace    = 5 * time.Second
)

// Proxy is the proxy's container: the image's haproxy or nginx in the
// foreground under an init process, its config, pid file, logs and
// HAProxy's master CLI socket in the scratch dir, mounted at the same
// path, so the rest of wslb reads them as on loopback.
type Proxy struct {
	e     *Env
	spec  driver.ProxySpec
	image string
	id    string
	name  string
	plan  proxy.RunPlan
	// exit is the container's: recorded by watch, expected once Close
	// (or a failed start) begins.
	exit      *loopback.Exit
	reloadMu  sync.Mutex
	closeOnce sync.Once
	closeErr  error
}

// StartProxy starts the proxy's container and waits until the proxy
// accepts connections on spec.ReadyAddr (and, for HAProxy, on its master
// CLI). A failed start removes the container; it may be retried.
func (e *Env) StartProxy(ctx context.Context, spec driver.ProxySpec) (driver.Proxy, error) {
	e.mu.Lock()
	if e.proxy != nil {
		e.mu.Unlock()
		return nil, errors.New("start proxy: this run has a proxy already")
	}
	e.mu.Unlock()
	if spec.ReadyTimeout <= 0 {
		spec.ReadyTimeout = defaultReadyTimeout
	}
	if spec.StopGrace <= 0 {
		spec.StopGrace = defaultStopGrace
	}
	kind := spec.Binary.Kind
	d, ok := proxy.Lookup(string(kind))
	if !ok || d.Run == nil {
		return nil, fmt.Errorf("start proxy: unknown kind %q", kind)
	}
	plan, err := d.Run(proxy.RunRequest{Binary: spec.Binary.Path, Config: spec.Config, Dir: e.scratch.Dir})
	if err != nil {
		return nil, err
	}
	p := &Proxy{e: e, spec: spec, plan: plan, exit: loopback.NewExit(), name: e.net.name + "-proxy"}
	p.image = ProxyImage(e.images[kind], string(kind), spec.Binary.Version.String())
	if err := haveImage(ctx, e.cli, p.image); err != nil {
		return nil, err
	}
	p.id, err = e.create(ctx, node{
		name: p.name, image: p.image, role: "proxy", addr: e.net.proxy,
		// The binary by name, from the image's PATH: official images
		// and Debian's keep it in different places.
		entry: []string{string(kind)}, cmd: plan.Args,
		// Official images drop to a user of their own, who could not
		// write the pid file and sockets into the scratch dir.
		user:   "0",
		mounts: []string{e.scratch.Dir},
		// One stream, so the log reads as the loopback proxy's does.
		tty: true,
	})
	if err != nil {
		return nil, err
	}
	// Wait before start, so an exit during startup is not missed.
	wait := e.cli.ContainerWait(context.Background(), p.id, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if err := e.start(ctx, p.id, p.name); err != nil {
		p.remove()
		return nil, err
	}
	go p.watch(wait)
	err = p.routeClients(ctx)
	if err == nil {
		err = p.waitReady(ctx)
	}
	if err == nil {
		err = p.checkVersion(ctx, d)
	}
	if err != nil {
		tail := p.LogTail(30)
		p.exit.Expect()
		p.remove()
		if tail != "" {
			tail = "\n--- proxy log (last lines) ---\n" + tail
		}
		return nil, fmt.Errorf("start %s in %s: %w%s", kind, p.image, err, tail)
	}
	e.mu.Lock()
	e.proxy = p
	e.mu.Unlock()
	return p, nil
}

// watch records the container's exit.
func (p *Proxy) watch(w client.ContainerWaitResult) {
	var status error
	select {
	case res := <-w.Result:
		if res.Error != nil && res.Error.Message != "" {
			status = errors.New(res.Error.Message)
		} else {
			status = exitStatus(res.StatusCode)
		}
	case err := <-w.Error:
		status = fmt.Errorf("waiting for the container: %w", err)
	}
	p.exit.Record(time.Now(), status)
}

// exitStatus reads a container's exit code as a process's: 128+N is
// signal N.
func exitStatus(code int64) error {
	switch {
	case code == 0:
		return errors.New("exit status 0")
	case code > 128 && code < 128+65:
		return fmt.Errorf("signal: %s", syscall.Signal(code-128))
	default:
		return fmt.Errorf("exit status %d", code)
	}
}

// routeClients gives the proxy's namespace its route to the clients'
// source addresses: through the clients' host (see clientRange).
func (p *Proxy) routeClients(ctx context.Context) error {
	res, err := p.e.cli.ContainerInspect(ctx, p.id, client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil || res.Container.State.Pid == 0 {
		return fmt.Errorf("no running process (%v)", err)
	}
	cmd := exec.CommandContext(ctx, "nsenter", "--net=/proc/"+strconv.Itoa(res.Container.State.Pid)+"/ns/net",
		"ip", "route", "add", clientRange.String(), "via", p.e.net.clients.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return driver.Unavailable(fmt.Errorf("route the clients' addresses in the proxy's namespace (needs root on the engine's host): %v: %s", err, strings.TrimSpace(string(out))))
	}
	return nil
}

func (p *Proxy) waitReady(ctx context.Context) error {
	deadline := time.NewTimer(p.spec.ReadyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var last error
	for {
		if last = p.probe(ctx); last == nil && p.plan.MasterSocket != "" {
			last = dialUnix(p.plan.MasterSocket)
		}
		if last == nil {
			return nil
		}
		select {
		case <-p.exit.Exited():
			return fmt.Errorf("exited during startup (%v)", p.exit.Err())
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("not ready on %s after %s: %v", p.spec.ReadyAddr, p.spec.ReadyTimeout, last)
		case <-tick.C:
		}
	}
}

func dialUnix(path string) error {
	c, err := net.Dial("unix", path)
	if err != nil {
		return fmt.Errorf("master CLI: %w", err)
	}
	return c.Close()
}

// probe checks once that the listener accepts, and answers HTTP when
// ReadyPath is set.
func (p *Proxy) probe(ctx context.Context) error {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	conn, err := d.DialContext(ctx, "tcp", p.spec.ReadyAddr)
	if err != nil {
		return err
	}
	conn.Close()
	if p.spec.ReadyPath == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.spec.ReadyAddr+p.spec.ReadyPath, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("GET %s: %s", p.spec.ReadyPath, resp.Status)
	}
	return nil
}

// Kind is the proxy kind.
func (p *Proxy) Kind() proxybin.Kind { return p.spec.Binary.Kind }

// Addr is the listener it was checked on.
func (p *Proxy) Addr() string { return p.spec.ReadyAddr }

// Image is the image the proxy runs from.
func (p *Proxy) Image() string { return p.image }

// Exited is closed once the container has exited.
func (p *Proxy) Exited() <-chan struct{} { return p.exit.Exited() }

// Died reports an exit the proxy made on its own, not by Close.
func (p *Proxy) Died() (time.Time, error, bool) { return p.exit.Died() }

// Stopped reports whether the container is paused.
func (p *Proxy) Stopped() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := p.e.cli.ContainerInspect(ctx, p.id, client.ContainerInspectOptions{})
	return err == nil && res.Container.State != nil && res.Container.State.Paused
}

// ServerStates asks HAProxy's master CLI (in the scratch dir) for the
// state of every server; NGINX has none.
func (p *Proxy) ServerStates(ctx context.Context) ([]driver.ServerState, error) {
	return loopback.MasterServerStates(ctx, p.plan.MasterSocket)
}

// Reload signals the proxy's master through the engine (the init process
// passes it on) and waits as the loopback driver does: HAProxy on its
// master CLI, NGINX by its workers, seen in this host's /proc.
func (p *Proxy) Reload(ctx context.Context) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	select {
	case <-p.exit.Exited():
		return fmt.Errorf("reload %s: the proxy is not running (%v)", p.Kind(), p.exit.Err())
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, p.spec.ReadyTimeout)
	defer cancel()
	m := loopback.Master{Exited: p.exit.Exited(), Err: p.exit.Err, Signal: func(sig syscall.Signal) error {
		if _, err := p.e.cli.ContainerKill(ctx, p.id, client.ContainerKillOptions{Signal: strconv.Itoa(int(sig))}); err != nil {
			return fmt.Errorf("signal %s: %w", p.name, err)
		}
		return nil
	}}
	var err error
	switch p.plan.Reload {
	case proxy.ReloadMasterCLI:
		err = m.ReloadMasterCLI(ctx, p.plan.MasterSocket)
	case proxy.ReloadSIGHUP:
		var master int
		if master, err = p.masterPid(ctx); err == nil {
			err = m.ReloadSIGHUP(ctx, master, p.plan.ErrorLogs)
		}
	default:
		err = errors.New("no reload strategy")
	}
	if err != nil {
		return fmt.Errorf("reload %s: %w", p.Kind(), err)
	}
	return nil
}

// masterPid is the proxy master's pid in this host's /proc: the only
// child of the container's init process.
func (p *Proxy) masterPid(ctx context.Context) (int, error) {
	res, err := p.e.cli.ContainerInspect(ctx, p.id, client.ContainerInspectOptions{})
	if err != nil || res.Container.State == nil || res.Container.State.Pid == 0 {
		return 0, fmt.Errorf("%s: no running process (%v)", p.name, err)
	}
	init := res.Container.State.Pid
	kids := loopback.Children(init)
	if len(kids) != 1 {
		return 0, fmt.Errorf("%s: the master is not the one child of init %d (children %v); is the engine on this host?", p.name, init, kids)
	}
	return kids[0], nil
}

// LogTail is the last n lines of the container's output and of the
// proxy's error logs.
func (p *Proxy) LogTail(n int) string {
	var parts []string
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if r, err := p.e.cli.ContainerLogs(ctx, p.id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)}); err == nil {
		b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
		r.Close()
		if s := strings.TrimSpace(strings.ReplaceAll(string(b), "\r\n", "\n")); s != "" {
			parts = append(parts, s)
		}
	}
	for _, path := range p.plan.ErrorLogs {
		if t := strings.TrimSpace(strings.Join(safefile.TailLines(filepath.Clean(path), n), "\n")); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, "\n")
}

// Close stops the proxy: SIGTERM through the init process, SIGKILL after
// StopGrace. Env.Close removes the container.
func (p *Proxy) Close() error {
	if p == nil {
		return nil
	}
	p.closeOnce.Do(func() {
		p.exit.Expect()
		ctx, cancel := context.WithTimeout(context.Background(), p.spec.StopGrace+teardownTimeout)
		defer cancel()
		secs := int((p.spec.StopGrace + time.Second - 1) / time.Second)
		if _, err := p.e.cli.ContainerStop(ctx, p.id, client.ContainerStopOptions{Timeout: &secs}); err != nil && !isNotFound(err) {
			p.closeErr = fmt.Errorf("stop %s: %w", p.name, err)
		}
	})
	return p.closeErr
}

// remove removes a proxy container that never became the run's proxy.
func (p *Proxy) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
	defer cancel()
	_, _ = p.e.cli.ContainerRemove(ctx, p.id, client.ContainerRemoveOptions{Force: true})
}
