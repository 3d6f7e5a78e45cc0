package docker

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/moby/moby/client"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/internal/brokerproc"
)

// RuntimeImage is the image the run's brokers run from, and the one
// wslb's own tests run the user's servers in (--backend-image): Debian
// bookworm with nodejs, redis-server and nats-server, which
// scripts/docker-images builds (make docker), no registry needed.
const RuntimeImage = "wslb-runtime:bookworm"

// brokerKinds are the brokers the driver runs, each a container from
// RuntimeImage: what it runs, and the port it listens on.
var brokerKinds = map[broker.Kind]struct {
	port int
	cmd  func(port int) []string
}{
	broker.Redis: {6379, func(port int) []string {
		// Nothing on disk (no RDB, no AOF); protected mode would
		// refuse the nodes, who are not on its loopback.
		return []string{"redis-server", "--port", strconv.Itoa(port), "--bind", "0.0.0.0", "--save", "",
			"--appendonly", "no", "--dir", "/tmp", "--daemonize", "no", "--protected-mode", "no"}
	}},
	broker.NATS: {4222, func(port int) []string {
		return []string{"nats-server", "-a", "0.0.0.0", "-p", strconv.Itoa(port)}
	}},
}

// checkBroker says whether a run's broker can be of kind: Redis and NATS
// run as containers (StartBroker), the other kinds wslb knows on a
// service host (ServiceHost).
func checkBroker(kind string) error {
	if _, err := broker.ParseKind(kind); err != nil {
		return err
	}
	return nil
}

// Timing of broker containers.
const (
	brokerReady = 20 * time.Second
	brokerStop  = 3
)

// containerBroker is a broker on the run's network: like a backend, a
// host container holding its address and the broker's process in that
// host's network namespace, so that a stopped broker refuses the nodes
// at once, as on loopback, instead of leaving an address whose dials
// time out (a node's publish would then wait, and land once the broker
// is back, before the nodes subscribed again: accepted and lost).
type containerBroker struct {
	e    *Env
	kind broker.Kind
	addr netip.AddrPort
	host string
	id   string
}

var _ driver.BrokerRunner = (*Env)(nil)

// StartBroker runs a Redis or NATS broker in a container of the run's
// (one per run) and waits until it answers; for other kinds it returns
// an error that errors.Is driver.ErrNotSupported, and wslb runs the
// broker on a ServiceHost.
func (e *Env) StartBroker(ctx context.Context, name string) (driver.Broker, error) {
	kind := broker.Kind(name)
	if _, ok := brokerKinds[kind]; !ok {
		// wslb runs it on a service host instead.
		return nil, driver.NotSupported(Name, "a "+name+" broker from an image")
	}
	if err := haveRuntimeImage(ctx, e); err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.broker != nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("docker: this run has its broker already")
	}
	k := brokerKinds[kind]
	b := &containerBroker{e: e, kind: kind, addr: netip.AddrPortFrom(e.net.broker, uint16(k.port))}
	e.broker = b
	e.mu.Unlock()
	var err error
	b.host, err = e.create(ctx, node{
		name: e.net.name + "-broker-host", image: e.node, role: "host", addr: e.net.broker,
		cmd: []string{"echo", "--id", "broker-host", "--listen", "127.0.0.1:1"},
	})
	if err != nil {
		return nil, err
	}
	if err := e.start(ctx, b.host, "broker-host"); err != nil {
		return nil, err
	}
	b.id, err = e.create(ctx, node{
		name: e.net.name + "-broker", image: RuntimeImage, role: "broker", netOf: b.host,
		entry: k.cmd(k.port), user: "65534",
	})
	if err != nil {
		return nil, err
	}
	if err := b.Start(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// haveRuntimeImage checks that RuntimeImage is on the engine.
func haveRuntimeImage(ctx context.Context, e *Env) error {
	if _, err := e.cli.ImageInspect(ctx, RuntimeImage); err != nil {
		return driver.Unavailable(fmt.Errorf("docker: image %s is not on the engine (%v); build it with scripts/docker-images (make docker)", RuntimeImage, err))
	}
	return nil
}

// URL is the broker's address on the run's network.
func (b *containerBroker) URL() string {
	scheme := string(b.kind)
	return scheme + "://" + b.addr.String()
}

// Start starts the container and waits until the broker answers.
func (b *containerBroker) Start(ctx context.Context) error {
	if err := b.e.start(ctx, b.id, b.e.net.name+"-broker"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, brokerReady)
	defer cancel()
	var last error
	for {
		if last = brokerproc.Ready(ctx, b.kind, b.addr.String()); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("docker: %s broker not ready on %s within %s: %v", b.kind, b.addr, brokerReady, last)
		case <-time.After(pollEvery):
		}
	}
}

// Stop stops the container (SIGTERM, SIGKILL after a grace): the nodes
// lose their connections as to a restarting broker.
func (b *containerBroker) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), teardownTimeout)
	defer cancel()
	secs := brokerStop
	if _, err := b.e.cli.ContainerStop(ctx, b.id, client.ContainerStopOptions{Timeout: &secs}); err != nil {
		return fmt.Errorf("docker: stop %s broker: %w", b.kind, err)
	}
	return nil
}

// Close stops nothing by itself: Env.Close removes the container with
// the rest of the run.
func (b *containerBroker) Close() error { return nil }
