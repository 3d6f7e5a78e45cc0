// Package rabbitmq is the RabbitMQ kind of broker, with amqp091-go.
//
// Channel names a topic exchange (declared, not durable, by every node);
// a room's messages are published to it with the room as routing key.
// Every node declares a queue of its own (server-named, exclusive,
// deleted with the connection), binds it with "#" (all rooms) and
// consumes it without acknowledgements. A node on another exchange hears
// nothing.
//
// Delivery is at most once: a node's queue exists only while it is
// connected, so what is published while it is away is not kept for it;
// auto-acknowledged messages in flight when a connection drops are lost.
//
// amqp091-go does not reconnect by itself: a supervisor goroutine here
// watches the connection (and its channels: a channel closed by the server
// closes the connection too), reports Down, dials again every 100 ms to 2 s
// until it succeeds, declares the exchange and, when subscribed, a new
// queue and consumer, and reports Up. Publish fails while it is away.
package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/wslb/wslb/broker"
)

func init() { broker.Register(broker.RabbitMQ, dial) }

type conn struct {
	cfg      broker.Config
	exchange string
	ctx      context.Context // the connection's life, ended by Close
	cancel   context.CancelFunc
	supDone  chan struct{}

	setup sync.Mutex // serialises connect and Subscribe

	mu           sync.Mutex
	ac           *amqp.Connection
	pub          *amqp.Channel // nil while away
	handler      broker.Handler
	consumerDone chan struct{} // closed when the consumer goroutine ends

	closeOnce sync.Once
}

func dial(ctx context.Context, cfg broker.Config) (broker.Conn, error) {
	life, cancel := context.WithCancel(context.Background())
	c := &conn{cfg: cfg, exchange: cfg.Channel, ctx: life, cancel: cancel, supDone: make(chan struct{})}
	if err := c.connect(ctx); err != nil {
		cancel()
		return nil, err
	}
	go c.supervise()
	return c, nil
}

// connect dials, declares the exchange and, when a handler is set,
// starts consuming; on error nothing is left open.
func (c *conn) connect(ctx context.Context) error {
	c.setup.Lock()
	defer c.setup.Unlock()
	props := amqp.NewConnectionProperties()
	if c.cfg.Node != "" {
		props.SetClientConnectionName("wslb " + c.cfg.Node)
	}
	ac, err := amqp.DialConfig(c.cfg.URL, amqp.Config{
		Heartbeat:  5 * time.Second,
		Properties: props,
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: 5 * time.Second}
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bounds the AMQP handshake; amqp091-go clears it once
			// the connection is open (like its DefaultDial).
			return nc, nc.SetDeadline(time.Now().Add(5 * time.Second))
		},
	})
	if err != nil {
		return err
	}
	pub, err := ac.Channel()
	if err == nil {
		err = pub.ExchangeDeclare(c.exchange, amqp.ExchangeTopic, false, false, false, false, nil)
	}
	if err != nil {
		ac.Close()
		return fmt.Errorf("exchange %s: %w", c.exchange, err)
	}
	closeOnChannelError(ac, pub)
	c.mu.Lock()
	h := c.handler
	c.mu.Unlock()
	var done chan struct{}
	if h != nil {
		if done, err = c.consume(ac, h); err != nil {
			ac.Close()
			return err
		}
	}
	c.mu.Lock()
	c.ac, c.pub = ac, pub
	if done != nil {
		c.consumerDone = done
	}
	c.mu.Unlock()
	return nil
}

// closeOnChannelError closes ac when the server closes ch (a channel
// error), so that the supervisor reconnects instead of leaving a dead
// channel behind.
func closeOnChannelError(ac *amqp.Connection, ch *amqp.Channel) {
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		if err := <-closed; err != nil {
			ac.Close()
		}
	}()
}

// consume declares the node's queue, binds it to every room and delivers
// its messages to h from one goroutine, whose end closes the returned
// channel.
func (c *conn) consume(ac *amqp.Connection, h broker.Handler) (chan struct{}, error) {
	ch, err := ac.Channel()
	if err != nil {
		return nil, err
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	if err := ch.QueueBind(q.Name, "#", c.exchange, false, nil); err != nil {
		return nil, fmt.Errorf("bind %s to %s: %w", q.Name, c.exchange, err)
	}
	dels, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", q.Name, err)
	}
	closeOnChannelError(ac, ch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for d := range dels {
			h(d.RoutingKey, d.Body)
		}
	}()
	return done, nil
}

// supervise reconnects after the connection is lost, until Close.
func (c *conn) supervise() {
	defer close(c.supDone)
	for {
		c.mu.Lock()
		ac := c.ac
		c.mu.Unlock()
		closed := ac.NotifyClose(make(chan *amqp.Error, 1))
		var cause error
		select {
		case <-c.ctx.Done():
			return
		case e := <-closed:
			if e != nil {
				cause = e
			}
		}
		if c.ctx.Err() != nil {
			return
		}
		if cause == nil {
			cause = errors.New("connection closed")
		}
		c.mu.Lock()
		c.pub = nil
		done := c.consumerDone
		c.mu.Unlock()
		c.state(broker.Down, cause)
		if done != nil {
			<-done // one consumer goroutine at a time
		}
		pause := 100 * time.Millisecond
		for {
			ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
			err := c.connect(ctx)
			cancel()
			if err == nil {
				break
			}
			select {
			case <-c.ctx.Done():
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, 2*time.Second)
		}
		c.state(broker.Up, nil)
	}
}

func (c *conn) state(s broker.State, err error) {
	if c.cfg.OnState != nil && c.ctx.Err() == nil {
		c.cfg.OnState(s, err)
	}
}

func (c *conn) Publish(ctx context.Context, room string, payload []byte) error {
	if err := broker.CheckRoom(room); err != nil {
		return err
	}
	c.mu.Lock()
	pub := c.pub
	c.mu.Unlock()
	if pub == nil {
		return fmt.Errorf("rabbitmq publish to %s/%s: not connected (reconnecting)", c.exchange, room)
	}
	if err := pub.PublishWithContext(ctx, c.exchange, room, false, false, amqp.Publishing{Body: payload}); err != nil {
		return fmt.Errorf("rabbitmq publish to %s/%s: %w", c.exchange, room, err)
	}
	return nil
}

func (c *conn) Subscribe(ctx context.Context, h broker.Handler) error {
	c.setup.Lock()
	defer c.setup.Unlock()
	c.mu.Lock()
	ac, pub, dup := c.ac, c.pub, c.handler != nil
	c.mu.Unlock()
	if dup {
		return errors.New("rabbitmq: Subscribe called twice")
	}
	if pub == nil {
		return errors.New("rabbitmq: not connected (reconnecting)")
	}
	done, err := c.consume(ac, h)
	if err != nil {
		return fmt.Errorf("rabbitmq subscribe: %w", err)
	}
	c.mu.Lock()
	c.handler, c.consumerDone = h, done
	c.mu.Unlock()
	return nil
}

func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.setup.Lock() // no connect under way
		c.mu.Lock()
		ac, done := c.ac, c.consumerDone
		c.mu.Unlock()
		ac.Close()
		c.setup.Unlock()
		<-c.supDone
		if done != nil {
			<-done
		}
	})
	return nil
}
