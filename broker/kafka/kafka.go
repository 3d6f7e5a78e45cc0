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
// 5 s). franz-go reconnects by itself, retrying at most a second apart
// (Kafka's own client backoff) so that a node publishes again soon after
// the broker is back. Hooks on the node's consumer and producer report
// Down on the first failed dial (or consumer read or write), and Up once
// the consumer's next fetch is answered and the producer, if it lost the
// broker, has been answered again: a node is back when it can both read
// and publish.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
	state *stateHook

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
	c.state = &stateHook{report: c.report}
	c.prod, err = kgo.NewClient(append(c.common(),
		kgo.WithHooks(&sideHook{state: c.state, side: producerSide}),
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
	return []kgo.Opt{kgo.SeedBrokers(c.seeds...), kgo.ClientID(id), kgo.DialTimeout(3 * time.Second),
		kgo.RetryBackoffFn(retryBackoff)}
}

// retryBackoff is Kafka's own client backoff (retry.backoff.ms 100,
// retry.backoff.max.ms 1000, 20% jitter). franz-go's default doubles up to
// 5 s, and its metadata loop sleeps that out even once the broker is back:
// after an outage of a few seconds a node's producer published nothing for
// up to 5 s more, while its consumer was long back.
func retryBackoff(fails int) time.Duration {
	d := 100 * time.Millisecond
	for i := 1; i < fails && d < time.Second; i++ {
		d *= 2
	}
	d = min(d, time.Second)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
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
	cons, err := kgo.NewClient(append(c.common(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.topic: start}),
		// A log that is shorter than our position (a broker that lost
		// it) is read from its start.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(time.Second),
		kgo.WithHooks(&sideHook{state: c.state, side: consumerSide}),
	)...)
	if err != nil {
		return err
	}
	loop, cancel := context.WithCancel(context.Background())
	c.cons, c.cancel, c.done = cons, cancel, make(chan struct{})
	go c.poll(loop, cons, h)
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

func (c *conn) poll(ctx context.Context, cons *kgo.Client, h broker.Handler) {
	defer close(c.done)
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) { h(string(r.Key), r.Value) })
	}
}

func (c *conn) report(s broker.State, err error) {
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

// The two clients of a node: the consumer reads the topic, the producer
// publishes to it.
const (
	consumerSide = iota
	producerSide
)

// stateHook turns the node's broker I/O into Down and Up: down at the
// first failed dial of either client (or failed read or write of the
// consumer), up again once the consumer's next fetch is answered and the
// producer, if it failed, has had an answer since. An idle connection
// franz-go closes itself is no failure.
type stateHook struct {
	report   func(broker.State, error)
	mu       sync.Mutex
	down     [2]bool
	reported bool // Down was reported last
}

func (k *stateHook) set(side int, down bool, err error) {
	k.mu.Lock()
	k.down[side] = down
	lost := k.down[consumerSide] || k.down[producerSide]
	changed := k.reported != lost
	k.reported = lost
	k.mu.Unlock()
	if !changed {
		return
	}
	if lost {
		k.report(broker.Down, err)
	} else {
		k.report(broker.Up, nil)
	}
}

// sideHook is one client's hooks into the node's stateHook.
type sideHook struct {
	state *stateHook
	side  int
}

var (
	_ kgo.HookBrokerConnect = (*sideHook)(nil)
	_ kgo.HookBrokerRead    = (*sideHook)(nil)
	_ kgo.HookBrokerWrite   = (*sideHook)(nil)
)

// fetchKey is the Kafka API key of Fetch.
const fetchKey = 1

func (k *sideHook) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		k.state.set(k.side, true, err)
	}
}

func (k *sideHook) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		// A producer's read fails when the broker went while it was
		// idle; its next dial says whether the broker is there.
		if k.side == consumerSide {
			k.state.set(k.side, true, err)
		}
	case err == nil && (key == fetchKey || k.side == producerSide):
		k.state.set(k.side, false, nil)
	}
}

func (k *sideHook) OnBrokerWrite(_ kgo.BrokerMetadata, _ int16, _ int, _, _ time.Duration, err error) {
	if err != nil && !errors.Is(err, context.Canceled) && k.side == consumerSide {
		k.state.set(k.side, true, err)
	}
}
