// Package nats is the NATS kind of broker (core NATS, no JetStream), with
// nats.go.
//
// A room's messages go to the subject CHANNEL.ROOM; every node subscribes
// to CHANNEL.* (rooms are single tokens), so a node on another prefix
// hears nothing.
//
// Delivery is core NATS's: at most once, nothing kept for a subscriber
// that is not connected, and a subscriber that falls more than nats.go's
// pending limits (512k messages or 64 MiB) behind loses messages (a slow
// consumer; the loss shows in what arrives). nats.go reconnects by itself
// without limit, every 100 ms, and subscribes again; DisconnectErrHandler
// reports Down and ReconnectHandler Up. Its reconnect buffer is disabled,
// so Publish fails while the server is away instead of holding messages
// for later, like the other kinds.
package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/wslb/wslb/broker"
)

func init() { broker.Register(broker.NATS, dial) }

type conn struct {
	cfg    broker.Config
	nc     *natsgo.Conn
	prefix string
	closed chan struct{}

	mu  sync.Mutex
	sub *natsgo.Subscription
}

func dial(ctx context.Context, cfg broker.Config) (broker.Conn, error) {
	c := &conn{cfg: cfg, prefix: cfg.Channel + ".", closed: make(chan struct{})}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	nc, err := natsgo.Connect(cfg.URL,
		natsgo.Name(cfg.Node),
		natsgo.Timeout(timeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(100*time.Millisecond),
		natsgo.ReconnectBufSize(-1),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err == nil {
				err = errors.New("disconnected")
			}
			c.state(broker.Down, err)
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) {
			// nats.go has sent the subscriptions again; the PONG says
			// the server has them.
			_ = nc.FlushTimeout(5 * time.Second)
			c.state(broker.Up, nil)
		}),
		natsgo.ClosedHandler(func(*natsgo.Conn) { close(c.closed) }),
	)
	if err != nil {
		return nil, err
	}
	c.nc = nc
	return c, nil
}

func (c *conn) state(s broker.State, err error) {
	select {
	case <-c.closed:
		return // our own Close
	default:
	}
	if c.cfg.OnState != nil {
		c.cfg.OnState(s, err)
	}
}

func (c *conn) Publish(_ context.Context, room string, payload []byte) error {
	if err := broker.CheckRoom(room); err != nil {
		return err
	}
	if err := c.nc.Publish(c.prefix+room, payload); err != nil {
		return fmt.Errorf("nats publish to %s%s: %w", c.prefix, room, err)
	}
	return nil
}

func (c *conn) Subscribe(ctx context.Context, h broker.Handler) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sub != nil {
		return errors.New("nats: Subscribe called twice")
	}
	sub, err := c.nc.Subscribe(c.prefix+"*", func(m *natsgo.Msg) {
		h(m.Subject[len(c.prefix):], m.Data)
	})
	if err != nil {
		return fmt.Errorf("nats subscribe %s*: %w", c.prefix, err)
	}
	// The server has the subscription once it answered a PING sent
	// after the SUB.
	if err := c.nc.FlushWithContext(ctx); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("nats subscribe %s*: %w", c.prefix, err)
	}
	c.sub = sub
	return nil
}

// Close drains the connection (the handler sees what already arrived)
// and waits until it is closed.
func (c *conn) Close() error {
	select {
	case <-c.closed:
		return nil
	default:
	}
	if err := c.nc.Drain(); err != nil {
		c.nc.Close() // not connected: nothing to drain
	}
	select {
	case <-c.closed:
	case <-time.After(35 * time.Second): // past nats.go's drain timeout
		c.nc.Close()
	}
	return nil
}
