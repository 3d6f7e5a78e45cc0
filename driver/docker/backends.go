package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/roster"
)

// backendPort is where every backend listens, on its own address.
const backendPort = 8080

// Timing of backend containers.
const (
	backendReady = 15 * time.Second
	// commandReady bounds the start of the user's server, as
	// backendcmd.DefaultReadyTimeout does on loopback.
	commandReady = 60 * time.Second
	// backendStop is the grace a stopped backend has to close its
	// WebSockets (1001) before it is killed.
	backendStop = 2 * time.Second
	pollEvery   = 25 * time.Millisecond
)

// Backends are the backends of a run. Each is two containers: a host
// holding the backend's address (its network namespace) and the server's
// process in that namespace (`wslb echo`, or the user's command). Stopping the process leaves the
// host up, so the proxy's connections are refused at once, as by a
// stopped server, instead of timing out on a vanished address.
type Backends struct {
	e      *Env
	roster roster.Roster[*backend]
	spec   driver.BackendSpec
	image  string // the process containers'
	// follow ends the log followers (Env.Close).
	follow        context.Context
	stopFollowing context.CancelFunc

	mu sync.Mutex // guards every backend's running, paused and counters
	// stats asks the echo containers for their counters (stats.go).
	stats *http.Client
}

type backend struct {
	id       string
	addr     netip.AddrPort
	host     string // container holding the namespace
	proc     string // the server's container
	running  bool
	paused   bool
	counters echoCounters
	// leaving: the process is being stopped, and its broker connection
	// going is no loss.
	leaving atomic.Bool
}

// StartBackends starts one backend per id (see Backends): wslb's echo
// server from the node image, joined to spec.Broker when set, or the
// user's spec.Command in the backend image (--backend-image, default
// RuntimeImage) with its directory mounted read-only at the same path.
func (e *Env) StartBackends(ctx context.Context, spec driver.BackendSpec) (driver.Backends, error) {
	if !spec.Echo && spec.Command == nil {
		return nil, driver.NotSupported(Name, "backends other than wslb's echo server or a --backend-cmd")
	}
	image := e.node
	if spec.Command != nil {
		image = e.backendImage
		if image == "" {
			image = RuntimeImage
		}
		if _, err := e.cli.ImageInspect(ctx, image); err != nil {
			return nil, driver.Unavailable(fmt.Errorf("docker: backend image %s is not on the engine (%v): name the image --backend-cmd runs in with --backend-image (scripts/docker-images builds %s, with Node.js)", image, err, RuntimeImage))
		}
	}
	e.mu.Lock()
	if e.backends != nil {
		e.mu.Unlock()
		return nil, errors.New("start backends: this run has its backends already")
	}
	fctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b := &Backends{e: e, stats: newStatsClient(), spec: spec, image: image, follow: fctx, stopFollowing: stop}
	e.backends = b
	e.mu.Unlock()
	if len(spec.IDs) > maxBackends {
		return nil, fmt.Errorf("docker: %d backends; the run's address plan holds %d", len(spec.IDs), maxBackends)
	}
	all := make([]*backend, len(spec.IDs))
	for i, id := range spec.IDs {
		all[i] = &backend{id: id, addr: netip.AddrPortFrom(e.net.backendAddr(i), backendPort)}
		if err := b.roster.Add(id, all[i].addr, all[i]); err != nil {
			return nil, err
		}
	}
	// The engine takes about a second per container on a busy machine:
	// the backends boot side by side.
	if err := eachParallel(all, func(be *backend) error { return b.boot(ctx, be) }); err != nil {
		return nil, err
	}
	return b, nil
}

// boot creates and starts backend be's host and process containers.
func (b *Backends) boot(ctx context.Context, be *backend) error {
	e, id := b.e, be.id
	var err error
	// The host runs wslb too, as an echo server on its loopback that
	// nothing uses: the node image has no other program to idle in.
	be.host, err = e.create(ctx, node{
		name: e.net.name + "-" + id + "-host", image: e.node, role: "host", addr: be.addr.Addr(),
		cmd: []string{"echo", "--id", id + "-host", "--listen", "127.0.0.1:1"},
	})
	if err != nil {
		return err
	}
	if err := e.start(ctx, be.host, id+"-host"); err != nil {
		return err
	}
	proc := node{name: e.net.name + "-" + id, image: b.image, role: "backend", netOf: be.host}
	switch spec := b.spec; {
	case spec.Command != nil:
		// The user's server, as nobody, its directory read-only: it
		// writes only to /tmp (HOME too).
		proc.entry = []string{"/bin/sh", "-c", spec.Command.Script(be.addr.Addr().String(), backendPort, id)}
		proc.readOnly = []string{spec.Command.Dir}
		proc.tmpfs = []string{"/tmp"}
		proc.env = []string{"HOME=/tmp"}
		proc.user = "65534:65534"
	default:
		proc.cmd = []string{"echo", "--id", id, "--listen", net.JoinHostPort("0.0.0.0", strconv.Itoa(backendPort))}
		if br := spec.Broker; br != nil {
			proc.cmd = append(proc.cmd, "--broker", br.URL, "--channel", strings.ReplaceAll(br.Channel, "{id}", id))
		}
	}
	if be.proc, err = e.create(ctx, proc); err != nil {
		return err
	}
	return b.run(ctx, be)
}

// readyTimeout bounds a backend's start: the user's server may take as
// long as verify gives it on loopback.
func (b *Backends) readyTimeout() time.Duration {
	if b.spec.Command != nil {
		return commandReady
	}
	return backendReady
}

// run starts be's process container, follows its broker connection
// when it has one, and waits until it serves.
func (b *Backends) run(ctx context.Context, be *backend) error {
	since := time.Now()
	be.leaving.Store(false)
	// Asked before the start, so that an exit right after it is seen.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	exit := b.e.cli.ContainerWait(wctx, be.proc, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	if err := b.e.start(ctx, be.proc, be.id); err != nil {
		return err
	}
	if b.spec.Echo && b.spec.Broker != nil && b.spec.Broker.OnState != nil {
		go b.followBroker(be, since)
	}
	return b.waitServing(ctx, be, exit.Result)
}

// eachParallel runs f for every item at once and joins the errors.
func eachParallel[T any](items []T, f func(T) error) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for i, it := range items {
		wg.Go(func() { errs[i] = f(it) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// waitServing waits until backend be accepts connections, or its
// process exits (exited), quoting its output then.
func (b *Backends) waitServing(ctx context.Context, be *backend, exited <-chan container.WaitResponse) error {
	ctx, cancel := context.WithTimeout(ctx, b.readyTimeout())
	defer cancel()
	var last error
	for {
		d := net.Dialer{Timeout: 500 * time.Millisecond}
		c, err := d.DialContext(ctx, "tcp", be.addr.String())
		if err == nil {
			c.Close()
			b.mu.Lock()
			be.running = true
			b.mu.Unlock()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("docker: backend %s not serving on %s: %v%s", be.id, be.addr, last, b.quote(be.id))
		case w := <-exited:
			return fmt.Errorf("docker: backend %s exited (status %d) before it served on %s%s", be.id, w.StatusCode, be.addr, b.quote(be.id))
		case <-time.After(pollEvery):
		}
	}
}

// IDs lists the server ids in the order they were started.
func (b *Backends) IDs() []string { return b.roster.IDs() }

// Addr is server id's address on the run's network.
func (b *Backends) Addr(id string) string { return b.roster.Addr(id) }

// IDByAddr finds the server at addr.
func (b *Backends) IDByAddr(addr string) (string, bool) { return b.roster.IDByAddr(addr) }

// Running reports whether server id is serving (not stopped, not paused).
func (b *Backends) Running(id string) bool {
	be, err := b.roster.Get(id)
	if err != nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return be.running && !be.paused
}

// Stop stops the echo process gracefully (SIGTERM through the init
// process: WebSockets get a 1001 close), killing it after backendStop.
func (b *Backends) Stop(ctx context.Context, id string) error {
	be, err := b.lookup(id)
	if err != nil {
		return err
	}
	be.leaving.Store(true)
	b.retire(ctx, be)
	secs := int(backendStop / time.Second)
	if _, err := b.e.cli.ContainerStop(ctx, be.proc, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return fmt.Errorf("docker: stop backend %s: %w", id, err)
	}
	b.mu.Lock()
	be.running, be.paused = false, false
	b.mu.Unlock()
	return nil
}

// Kill kills the echo process at once, like a crash.
func (b *Backends) Kill(id string) error {
	be, err := b.lookup(id)
	if err != nil {
		return err
	}
	be.leaving.Store(true)
	b.retire(context.Background(), be)
	if _, err := b.e.cli.ContainerKill(context.Background(), be.proc, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("docker: kill backend %s: %w", id, err)
	}
	b.mu.Lock()
	be.running, be.paused = false, false
	b.mu.Unlock()
	return nil
}

// Start starts a stopped backend again, on the same address (its host
// kept it), and waits until it serves.
func (b *Backends) Start(ctx context.Context, id string) error {
	be, err := b.lookup(id)
	if err != nil {
		return err
	}
	b.mu.Lock()
	up := be.running // paused or not: a paused container cannot start
	b.mu.Unlock()
	if up {
		return nil
	}
	return b.run(ctx, be)
}

// Pause freezes the echo process (docker pause: the cgroup freezer).
// Its connections stay open and the kernel still completes handshakes,
// but nothing is answered.
func (b *Backends) Pause(ctx context.Context, id string) error {
	be, err := b.lookup(id)
	if err != nil {
		return err
	}
	if _, err := b.e.cli.ContainerPause(ctx, be.proc, client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("docker: pause backend %s: %w", id, err)
	}
	b.mu.Lock()
	be.paused = true
	b.mu.Unlock()
	return nil
}

// Resume lets a paused backend go on.
func (b *Backends) Resume(ctx context.Context, id string) error {
	be, err := b.lookup(id)
	if err != nil {
		return err
	}
	if _, err := b.e.cli.ContainerUnpause(ctx, be.proc, client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("docker: resume backend %s: %w", id, err)
	}
	b.mu.Lock()
	be.paused = false
	b.mu.Unlock()
	return nil
}

func (b *Backends) lookup(id string) (*backend, error) { return b.roster.Get(id) }

// Close stops nothing by itself: Env.Close removes every container of
// the run by its label. It drops the connections EchoStats kept.
func (b *Backends) Close() error {
	b.stats.CloseIdleConnections()
	return nil
}
