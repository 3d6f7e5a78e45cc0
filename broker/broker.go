// Package broker is the one small interface through which a WebSocket node
// shares messages with the other nodes of its pool: it publishes a room's
// message to a message broker and receives every room's messages that any
// node published. Each kind of broker (broker/redis, broker/nats,
// broker/rabbitmq, broker/kafka) lives in its own package and registers
// itself here; broker/all imports them all.
//
// What every kind guarantees (and what it does not):
//
//   - Subscribe returns only once the subscription is in place at the
//     broker: a message published after it returns, on any connection to
//     the same broker and channel, reaches the handler (while the broker and
//     the connection stay up).
//   - Messages of one publisher in one room arrive in the order it
//     published them.
//   - Delivery is at most once: a message published while a subscriber is
//     disconnected (a broker restart, a network cut) is lost for it. No kind
//     resumes from an offset; the caller counts what is missing.
//   - After a broker restart every kind reconnects by itself and subscribes
//     again; Config.OnState reports the loss of the connection and its
//     return, so that a caller never mistakes a gap for silence. Publish
//     returns an error while the broker is unreachable; a message
//     published just before the broker went away may still be lost
//     without one.
//
// Each package's doc says how its kind maps Channel and rooms to the
// broker's own names.
package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Kind names a broker kind.
type Kind string

// The kinds wslb knows.
const (
	Redis    Kind = "redis"
	NATS     Kind = "nats"
	RabbitMQ Kind = "rabbitmq"
	Kafka    Kind = "kafka"
)

// KnownKinds are the kinds in the order docs and messages list them.
var KnownKinds = []Kind{RabbitMQ, NATS, Redis, Kafka}

// Config says which broker to join and where the pool's messages go.
type Config struct {
	// Kind is the broker kind.
	Kind Kind
	// URL is the broker's address: redis://host:port[/db],
	// nats://host:port, amqp://user:pass@host:port/[vhost] or
	// kafka://host:port[,host:port...].
	URL string
	// Channel is where the pool's messages go: the Redis channel prefix,
	// the NATS subject prefix, the RabbitMQ topic exchange or the Kafka
	// topic (CheckChannel states each kind's rules). Default "wslb".
	Channel string
	// Node names this connection (a node of the pool) in the broker where
	// the kind has a place for it (client names, queue names).
	Node string
	// OnState, when set, is called when the connection to the broker is
	// lost (Down, with the cause) and when it is back and subscribed again
	// (Up). It is called from the kind's own goroutines and must not block.
	OnState func(State, error)
}

// State is a connection state reported to Config.OnState.
type State int

const (
	// Down: the connection to the broker is lost; messages published
	// until Up are not delivered to this node.
	Down State = iota
	// Up: the connection is back, subscriptions included.
	Up
)

func (s State) String() string {
	if s == Up {
		return "up"
	}
	return "down"
}

// Handler receives one message of a room. It is called from one goroutine
// per connection, in arrival order; a slow handler slows delivery.
type Handler func(room string, payload []byte)

// Conn is one node's connection to a broker.
type Conn interface {
	// Publish sends payload to every subscriber of room, on every node.
	Publish(ctx context.Context, room string, payload []byte) error
	// Subscribe starts delivering every room's messages to h and returns
	// once the subscription is in place. It may be called once.
	Subscribe(ctx context.Context, h Handler) error
	// Close ends the connection and waits for the handler to return.
	Close() error
}

// DialFunc opens a connection of one kind; cfg is checked and its
// defaults set.
type DialFunc func(ctx context.Context, cfg Config) (Conn, error)

var (
	mu    sync.RWMutex
	kinds = map[Kind]DialFunc{}
)

// Register makes a kind available to Dial. Kind packages call it from init.
func Register(kind Kind, dial DialFunc) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := kinds[kind]; dup {
		panic("broker: kind " + string(kind) + " registered twice")
	}
	kinds[kind] = dial
}

// Registered lists the kinds that Dial can open, sorted.
func Registered() []Kind {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Kind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// DefaultChannel is Config.Channel when none is given.
const DefaultChannel = "wslb"

// ErrUnknownKind is returned by Dial for a kind that is not registered.
var ErrUnknownKind = errors.New("unknown broker kind")

// Dial connects to the broker cfg names.
func Dial(ctx context.Context, cfg Config) (Conn, error) {
	if cfg.Channel == "" {
		cfg.Channel = DefaultChannel
	}
	if err := CheckChannel(cfg.Kind, cfg.Channel); err != nil {
		return nil, err
	}
	if err := CheckURL(cfg.Kind, cfg.URL); err != nil {
		return nil, err
	}
	mu.RLock()
	dial, ok := kinds[cfg.Kind]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q (registered: %s)", ErrUnknownKind, cfg.Kind, kindList(Registered()))
	}
	c, err := dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s broker at %s: %w", cfg.Kind, Redact(cfg.URL), err)
	}
	return c, nil
}

func kindList(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// ParseKind returns the kind named s, or an error listing the kinds.
func ParseKind(s string) (Kind, error) {
	if slices.Contains(KnownKinds, Kind(s)) {
		return Kind(s), nil
	}
	return "", fmt.Errorf("%w %q: one of %s", ErrUnknownKind, s, kindList(KnownKinds))
}
