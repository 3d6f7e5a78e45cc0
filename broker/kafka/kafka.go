// Package kafka is the Kafka kind of broker, with franz-go.
//
// Channel is the topic (created on first use with the broker's default
// partitions and replication); a room's message is a record whose key is
// the room, so that one room's records share a partition and keep their
// order. Every node reads every partition itself (no consumer group: each
// node must see every message), starting at the end offsets it finds when
// it subscribes.
//
// Delivery: a node reads the log from where it was, so messages that
// reached the broker while the node's connection was down are delivered
// when it is back (Kafka keeps them); messages published while the broker
// itself was down failed to publish (Publish returns the error after up to
// 5 s). franz-go reconnects by itself; a hook on the node's consumer
// reports Down on the first failed dial, read or write, and Up on the next
// fetch answered.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wslb/wslb/broker"
)

func init() { broker.Register(broker.Kafka, dial) }

type conn struct {
	cfg   broker.Config
	topic string
	seeds []string
	prod  *kgo.Client

	mu     sync.Mutex
	cons   *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
	closed bool
}

func dial(ctx context.Context, cfg broker.Config) (broker.Conn, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	c := &conn{cfg: cfg, topic: cfg.Channel, seeds: strings.Split(u.Host, ",")}
	c.prod, err = kgo.NewClient(append(c.common(),
		kgo.DefaultProduceTopic(c.topic),
		kgo.AllowAutoTopicCreation(),
		// Plain at-most-once producing: an idempotent producer's state
		// does not survive every broker restart, and order per room
		// comes from the record key.
		kgo.DisableIdempotentWrite(),
		kgo.ProducerLinger(0),
		kgo.RecordDeliveryTimeout(5*time.Second),
	)...)
	if err != nil {
		return nil, err
	}
	if err := c.prod.Ping(ctx); err != nil {
		c.prod.Close()
		return nil, fmt.Errorf("ping: %w", err)
	}
	return c, nil
}

func (c *conn) common() []kgo.Opt {
	id := "wslb"
	if c.cfg.Node != "" {
		id = "wslb-" + c.cfg.Node
	}
	return []kgo.Opt{kgo.SeedBrokers(c.seeds...), kgo.ClientID(id), kgo.DialTimeout(3 * time.Second)}
}

func (c *conn) Publish(ctx context.Context, room string, payload []byte) error {
	if err := broker.CheckRoom(room); err != nil {
		return err
	}
	if err := c.prod.ProduceSync(ctx, &kgo.Record{Key: []byte(room), Value: payload}).FirstErr(); err != nil {
		return fmt.Errorf("kafka produce to %s/%s: %w", c.topic, room, err)
	}
	return nil
}

func (c *conn) Subscribe(ctx context.Context, h broker.Handler) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cons != nil || c.closed {
		return errors.New("kafka: Subscribe called twice or after Close")
	}
	start, err := c.ends(ctx)
	if err != nil {
		return fmt.Errorf("kafka subscribe %s: %w", c.topic, err)
	}
	hook := &stateHook{report: c.state}
	cons, err := kgo.NewClient(append(c.common(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: start}),
		// A log that is shorter than our position (a broker that lost
		// it) is read from its start.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(time.Second),
		kgo.WithHooks(hook),
	)...)
	if err != nil {
		return err
	}
	loop, cancel := context.WithCancel(context.Background())
	c.cons, c.cancel, c.done = cons, cancel, make(chan struct{})
	go c.poll(loop, cons, h, hook)
	return nil
}

// ends creates the topic when missing and returns its partitions' end
// offsets: where this node starts reading.
func (c *conn) ends(ctx context.Context) (map[int32]kgo.Offset, error) {
	adm := kadm.NewClient(c.prod)
	if _, err := adm.CreateTopic(ctx, -1, -1, nil, c.topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return nil, fmt.Errorf("create topic: %w", err)
	}
	listed, err := adm.ListEndOffsets(ctx, c.topic)
	if err != nil {
		return nil, fmt.Errorf("end offsets: %w", err)
	}
	start := map[int32]kgo.Offset{}
	var perr error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			perr = o.Err
			return
		}
		start[o.Partition] = kgo.NewOffset().At(o.Offset)
	})
	if perr != nil {
		return nil, fmt.Errorf("end offsets: %w", perr)
	}
	if len(start) == 0 {
		return nil, errors.New("topic has no partitions")
	}
	return start, nil
}

func (c *conn) poll(ctx context.Context, cons *kgo.Client, h broker.Handler, hook *stateHook) {
	defer close(c.done)
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) { h(string(r.Key), r.Value) })
	}
}

func (c *conn) state(s broker.State, err error) {
	if c.cfg.OnState != nil {
		c.cfg.OnState(s, err)
	}
}

func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cons, cancel, done := c.cons, c.cancel, c.done
	c.mu.Unlock()
	if cons != nil {
		cancel()
		<-done
		cons.Close()
	}
	c.prod.Close()
	return nil
}

// stateHook turns the consumer's broker I/O into Down and Up: down at the
// first failed dial, read or write, up again at the next fetch answered.
// An idle connection franz-go closes itself is no failure.
type stateHook struct {
	report func(broker.State, error)
	mu     sync.Mutex
	down   bool
}

var (
	_ kgo.HookBrokerConnect = (*stateHook)(nil)
	_ kgo.HookBrokerRead    = (*stateHook)(nil)
	_ kgo.HookBrokerWrite   = (*stateHook)(nil)
)

// fetchKey is the Kafka API key of Fetch.
const fetchKey = 1

func (k *stateHook) set(down bool, err error) {
	k.mu.Lock()
	changed := k.down != down
	k.down = down
	k.mu.Unlock()
	if !changed {
		return
	}
	if down {
		k.report(broker.Down, err)
	} else {
		k.report(broker.Up, nil)
	}
}

func (k *stateHook) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		k.set(true, err)
	}
}

func (k *stateHook) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		k.set(true, err)
	case err == nil && key == fetchKey:
		k.set(false, nil)
	}
}

func (k *stateHook) OnBrokerWrite(_ kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		k.set(true, err)
	}
}
