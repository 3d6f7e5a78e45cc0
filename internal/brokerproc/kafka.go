package brokerproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/wslb/wslb/broker"
)

// kafka is the Kafka "server": no Kafka broker can be installed on these
// machines, so it is franz-go's in-process Kafka-protocol cluster (kfake),
// one broker on a free loopback port, that clients reach over TCP with
// the real protocol. It persists its log to its directory (kfake's
// DataDir), so a restart keeps topics and offsets like a real broker's.
// It lives in wslb's process: there is no PID to stop, Stop closes its
// listener and every client connection.
type kafka struct {
	dir   string
	port  int
	place Place

	mu     sync.Mutex
	c      *kfake.Cluster
	closed bool
}

// StartKafka starts a one-broker kfake cluster on a free loopback port,
// auto-creating topics (one partition by default).
func StartKafka(ctx context.Context, parent string) (Server, error) {
	return startKafka(ctx, parent, Place{})
}

// startKafka is StartKafka on place: the process is wslb's, its listener
// is made where place says.
func startKafka(ctx context.Context, parent string, place Place) (Server, error) {
	var last error
	for range 3 { // another process may take the port between pick and bind
		dir, err := newDir(parent, broker.Kafka)
		if err != nil {
			return nil, err
		}
		ports, err := freePorts(1)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("kafka: %w", err)
		}
		k := &kafka{dir: dir, port: ports[0], place: place}
		if last = k.Start(ctx); last == nil {
			return k, nil
		}
		k.Close()
	}
	return nil, last
}

func (k *kafka) Kind() broker.Kind { return broker.Kafka }
func (k *kafka) Addr() string      { return net.JoinHostPort(k.place.host(), strconv.Itoa(k.port)) }
func (k *kafka) URL() string       { return "kafka://" + k.Addr() }

// Dir is the cluster's data directory (Close removes it).
func (k *kafka) Dir() string { return k.dir }

func (k *kafka) Start(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return fmt.Errorf("kafka: closed")
	}
	if k.c != nil {
		return fmt.Errorf("kafka: already running")
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(k.port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
		kfake.DataDir(filepath.Join(k.dir, "data")),
	}
	if k.place.Listen != nil {
		host := k.place.host()
		opts = append(opts, kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			// kfake asks for 127.0.0.1:PORT; the broker's host is elsewhere.
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return k.place.Listen(network, net.JoinHostPort(host, port))
		}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("kafka (kfake) on %s: %w", k.Addr(), err)
	}
	k.c = c
	return nil
}

func (k *kafka) Stop() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
	return nil
}

func (k *kafka) Close() error {
	k.Stop()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	if err := os.RemoveAll(k.dir); err != nil {
		return fmt.Errorf("kafka: remove %s: %w", k.dir, err)
	}
	return nil
}
