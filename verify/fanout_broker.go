package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wslb/wslb/broker"
	_ "github.com/wslb/wslb/broker/all" // every kind a pool's broker can be
	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/internal/brokerproc"
)

// NodeTemplate in a broker channel is replaced by each node's id: a
// channel of "wslb-{id}" puts every node on its own channel, the broken
// wiring the fan-out scenarios must catch.
const NodeTemplate = "{id}"

// poolBroker is the broker the nodes of a run share, and what the nodes
// told about their connections to it.
type poolBroker struct {
	cfg broker.Config // Channel may hold NodeTemplate
	// server is the broker wslb started for the run (nil: one that was
	// running already, which wslb never restarts).
	server driver.Broker

	mu     sync.Mutex
	events []BusEvent
}

// startBroker readies the broker opts ask for: one started for the run
// (of kind BrokerStart: runBroker) or the one at BrokerURL. Nil when none
// is asked for.
func startBroker(ctx context.Context, rt driver.Env, opts Options, place func(name string) (brokerproc.Place, error)) (*poolBroker, error) {
	cfg := broker.Config{Channel: opts.BrokerChannel}
	if cfg.Channel == "" {
		cfg.Channel = broker.DefaultChannel
	}
	switch {
	case opts.BrokerStart != "":
		kind, err := broker.ParseKind(opts.BrokerStart)
		if err != nil {
			return nil, err
		}
		cfg.Kind = kind
		if err := checkChannel(cfg); err != nil {
			return nil, err
		}
		srv, err := runBroker(ctx, rt, kind, place)
		if err != nil {
			return nil, err
		}
		cfg.URL = srv.URL()
		return &poolBroker{cfg: cfg, server: srv}, nil
	case opts.BrokerURL != "":
		kind, err := BrokerKindOf(opts.BrokerURL)
		if err != nil {
			return nil, err
		}
		cfg.Kind, cfg.URL = kind, opts.BrokerURL
		if err := checkChannel(cfg); err != nil {
			return nil, err
		}
		return &poolBroker{cfg: cfg}, nil
	}
	return nil, nil
}

// checkChannel checks the channel with every node's id in place of
// NodeTemplate (a template checks as one id would make it).
func checkChannel(cfg broker.Config) error {
	return broker.CheckChannel(cfg.Kind, strings.ReplaceAll(cfg.Channel, NodeTemplate, "node"))
}

// BrokerKindOf is the broker kind a URL's scheme names: redis://,
// nats://, amqp:// (RabbitMQ) or kafka://.
func BrokerKindOf(raw string) (broker.Kind, error) {
	u, err := url.Parse(raw)
	if err != nil {
		u = &url.URL{}
	}
	switch u.Scheme {
	case "redis":
		return broker.Redis, nil
	case "nats":
		return broker.NATS, nil
	case "amqp":
		return broker.RabbitMQ, nil
	case "kafka":
		return broker.Kafka, nil
	}
	return "", fmt.Errorf("broker URL %q: want redis://, nats://, amqp:// or kafka://", broker.Redact(raw))
}

// checkLoopback refuses a broker off this machine unless allowed: verify's
// traffic stays on loopback.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("broker URL: %w", err)
	}
	for _, hp := range strings.Split(u.Host, ",") {
		host, _, err := net.SplitHostPort(hp)
		if err != nil {
			host = hp
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("broker %s is not on loopback; pass --allow-remote to use it", broker.Redact(raw))
		}
	}
	return nil
}

// describe names the broker in reports, without credentials.
func (b *poolBroker) describe() string {
	return fmt.Sprintf("%s at %s, channel %s", b.cfg.Kind, broker.Redact(b.cfg.URL), b.cfg.Channel)
}

// nodeConfig is node id's connection: its channel, and its state changes
// recorded until leaving is set (a node that stops closes its connection,
// which is no loss of the broker).
func (b *poolBroker) nodeConfig(id string, leaving *atomic.Bool) broker.Config {
	c := b.cfg
	c.Channel = strings.ReplaceAll(c.Channel, NodeTemplate, id)
	c.Node = id
	c.OnState = func(s broker.State, err error) {
		if leaving.Load() {
			return
		}
		e := BusEvent{Node: id, Up: s == broker.Up, At: time.Now()}
		if err != nil {
			e.Err = err.Error()
		}
		b.record(e)
	}
	return c
}

// runBroker starts a broker of kind where the run's servers reach it:
// the driver runs it (driver.BrokerRunner: a container), else wslb
// does, in the run's directory, where place says (loopback, or a
// ServiceHost).
func runBroker(ctx context.Context, rt driver.Env, kind broker.Kind, place func(name string) (brokerproc.Place, error)) (driver.Broker, error) {
	if r, ok := rt.(driver.BrokerRunner); ok {
		b, err := r.StartBroker(ctx, string(kind))
		if !errors.Is(err, driver.ErrNotSupported) {
			return b, err
		}
	}
	pl, err := place(string(kind))
	if err != nil {
		return nil, err
	}
	return brokerproc.StartAt(ctx, kind, rt.Dir(), pl)
}

// record keeps one node's broker connection change.
func (b *poolBroker) record(e BusEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, e)
}

// echoBroker is the broker for echo backends a driver runs outside this
// process: they report their connection changes through it.
func (b *poolBroker) echoBroker() *driver.EchoBroker {
	return &driver.EchoBroker{
		Kind: string(b.cfg.Kind), URL: b.cfg.URL, Channel: b.cfg.Channel,
		OnState: func(ev driver.BrokerEvent) {
			b.record(BusEvent{Node: ev.Node, Up: ev.Up, At: ev.At, Err: ev.Err})
		},
	}
}

// env is what a --backend-cmd server is told about the broker.
func (b *poolBroker) env() []string {
	return []string{"WSLB_BROKER_KIND=" + string(b.cfg.Kind), "WSLB_BROKER_URL=" + b.cfg.URL, "WSLB_BROKER_CHANNEL=" + b.cfg.Channel}
}

func (b *poolBroker) close() error {
	if b == nil || b.server == nil {
		return nil
	}
	return b.server.Close()
}

// busEvents are the broker connection changes since t of the nodes of
// pool (the pool under test). Every backend of the run joins the broker,
// those of the topology's other pools too; they carry no fan-out client,
// so a slow reconnect of theirs is none of the scenario's business.
func (e *env) busEvents(since time.Time, pool map[string]bool) []BusEvent {
	b := e.broker
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []BusEvent
	for _, ev := range b.events {
		if !ev.At.Before(since) && pool[ev.Node] {
			out = append(out, ev)
		}
	}
	return out
}

// backOnBrokerAfter is how long a restart waits for nodes to notice that
// the broker went, when none has said so yet.
const backOnBrokerAfter = 2 * time.Second

// allBackOnBroker reports whether every node of pool that lost the broker
// since down is back on it; until all of them have reported the loss, only
// once backOnBrokerAfter has passed (a node may not have noticed yet).
func (e *env) allBackOnBroker(down time.Time, pool map[string]bool) bool {
	last := map[string]bool{}
	for _, ev := range e.busEvents(down, pool) {
		last[ev.Node] = ev.Up
	}
	for _, up := range last {
		if !up {
			return false
		}
	}
	return len(last) >= len(pool) || time.Since(down) > backOnBrokerAfter
}

// describeBroker names the nodes' broker, or says there is none.
func (e *env) describeBroker() string {
	if e.broker == nil {
		return "no broker: each node delivers to its own clients only"
	}
	return e.broker.describe()
}

// brokerDial bounds a node's connection to the broker.
const brokerDial = 15 * time.Second

// busNode is an echo backend whose publications go through the broker; it
// leaves the broker when it stops.
type busNode struct {
	*echo.Server
	conn    broker.Conn
	leaving *atomic.Bool
}

// newBusNode connects node id to b and makes its echo backend.
func newBusNode(id string, b *poolBroker, cfg echo.Config) (*busNode, error) {
	ctx, cancel := context.WithTimeout(context.Background(), brokerDial)
	defer cancel()
	leaving := &atomic.Bool{}
	conn, err := broker.Dial(ctx, b.nodeConfig(id, leaving))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", id, err)
	}
	cfg.Bus = conn
	srv, err := echo.New(cfg)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	if err := conn.Subscribe(ctx, srv.Deliver); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("node %s: subscribing: %w", id, err)
	}
	return &busNode{Server: srv, conn: conn, leaving: leaving}, nil
}

// Shutdown stops the backend, then leaves the broker.
func (n *busNode) Shutdown(ctx context.Context) error {
	n.leaving.Store(true)
	return errors.Join(n.Server.Shutdown(ctx), n.conn.Close())
}

// Close stops at once, then leaves the broker.
func (n *busNode) Close() error {
	n.leaving.Store(true)
	return errors.Join(n.Server.Close(), n.conn.Close())
}

var _ driver.Server = (*busNode)(nil)
