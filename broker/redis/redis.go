// Package redis is the Redis pub/sub kind of broker, with go-redis.
//
// A room's messages go to the channel CHANNEL.ROOM (PUBLISH); every node
// subscribes to the pattern CHANNEL.* (PSUBSCRIBE), so one subscription
// carries all rooms and a node wired to another prefix hears nothing.
//
// Delivery is Redis pub/sub's: at most once, nothing kept for a
// subscriber that is not connected. When the connection drops (a Redis
// restart), the receive loop reports Down, and go-redis dials again and
// subscribes again on the next receive; the loop retries with a growing
// pause (up to a second) and reports Up when Redis confirms the
// subscription. Publish fails at once while Redis is unreachable and
// until the node is subscribed again, without go-redis's retries: a
// retry that lands once Redis is back, before the nodes subscribed
// again, would be a message accepted and delivered to no one.
package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wslb/wslb/broker"
)

func init() { broker.Register(broker.Redis, dial) }

type conn struct {
	cfg    broker.Config
	client *goredis.Client
	prefix string

	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	ps     *goredis.PubSub
	cancel context.CancelFunc
	done   chan struct{}

	// down: the subscription is lost and not confirmed again yet.
	down atomic.Bool
}

func dial(ctx context.Context, cfg broker.Config) (broker.Conn, error) {
	opt, err := goredis.ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	opt.ClientName = clientName(cfg.Node)
	opt.DialTimeout = 3 * time.Second
	opt.MaxRetries = -1 // see the package doc: a publish is tried once
	c := goredis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("ping: %w", err)
	}
	return &conn{cfg: cfg, client: c, prefix: cfg.Channel + "."}, nil
}

// clientName keeps a node name usable as a CLIENT SETNAME value (no
// spaces).
func clientName(node string) string {
	if node == "" {
		return "wslb"
	}
	return "wslb-" + strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return '_'
		}
		return r
	}, node)
}

func (c *conn) Publish(ctx context.Context, room string, payload []byte) error {
	if err := broker.CheckRoom(room); err != nil {
		return err
	}
	if c.down.Load() {
		return fmt.Errorf("redis publish to %s%s: not subscribed: the connection to Redis is down", c.prefix, room)
	}
	if err := c.client.Publish(ctx, c.prefix+room, payload).Err(); err != nil {
		return fmt.Errorf("redis publish to %s%s: %w", c.prefix, room, err)
	}
	return nil
}

func (c *conn) Subscribe(ctx context.Context, h broker.Handler) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ps != nil {
		return errors.New("redis: Subscribe called twice")
	}
	ps := c.client.PSubscribe(ctx, c.prefix+"*")
	// PSubscribe only sends the command: the confirmation says Redis has
	// the subscription.
	if _, err := ps.ReceiveTimeout(ctx, 5*time.Second); err != nil {
		ps.Close()
		return fmt.Errorf("redis psubscribe %s*: %w", c.prefix, err)
	}
	loop, cancel := context.WithCancel(context.Background())
	c.ps, c.cancel, c.done = ps, cancel, make(chan struct{})
	go c.receive(loop, ps, h)
	return nil
}

func (c *conn) receive(ctx context.Context, ps *goredis.PubSub, h broker.Handler) {
	defer close(c.done)
	down := false
	pause := 50 * time.Millisecond
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !down {
				down = true
				c.down.Store(true)
				c.state(broker.Down, err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Second)
			continue
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			// go-redis subscribes again on the new connection; this is
			// Redis confirming it.
			if down {
				down, pause = false, 50*time.Millisecond
				c.down.Store(false)
				c.state(broker.Up, nil)
			}
		case *goredis.Message:
			if room, ok := strings.CutPrefix(m.Channel, c.prefix); ok {
				h(room, []byte(m.Payload))
			}
		}
	}
}

func (c *conn) state(s broker.State, err error) {
	if c.cfg.OnState != nil {
		c.cfg.OnState(s, err)
	}
}

func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		ps, cancel, done := c.ps, c.cancel, c.done
		c.mu.Unlock()
		if ps != nil {
			cancel()
			ps.Close()
			<-done
		}
		c.closeErr = c.client.Close()
	})
	return c.closeErr
}
