package brokerproc

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/sandbox"
)

// FindRedis locates redis-server.
func FindRedis() (string, error) { return find("redis-server", "redis-server") }

// StartRedis starts redis-server on a free loopback port, keeping nothing
// on disk (no RDB, no AOF), and waits until it answers PING.
func StartRedis(ctx context.Context, parent string) (Server, error) {
	return StartRedisAt(ctx, parent, Place{})
}

// StartRedisAt is StartRedis on place.
func StartRedisAt(ctx context.Context, parent string, place Place) (Server, error) {
	bin, err := FindRedis()
	if err != nil {
		return nil, err
	}
	// Protected mode lets in loopback clients only; on a host of its own
	// the nodes connect from their hosts, over the run's private network.
	protected := "yes"
	if !place.loopback() {
		protected = "no"
	}
	return startFresh(ctx, broker.Redis, parent, 1, func(dir string, ports []int) *proc {
		addr := net.JoinHostPort(place.host(), strconv.Itoa(ports[0]))
		return &proc{
			kind: broker.Redis, place: place, dir: dir, addr: addr, url: "redis://" + addr, log: filepath.Join(dir, "output.log"),
			readyTimeout: 10 * time.Second, grace: 3 * time.Second,
			spec: func() (sandbox.Spec, error) {
				return sandbox.Spec{Binary: bin, Args: []string{
					"--port", strconv.Itoa(ports[0]), "--bind", place.host(), "--save", "", "--appendonly", "no",
					"--dir", dir, "--daemonize", "no", "--protected-mode", protected,
				}}, nil
			},
			ready: func(ctx context.Context) error { return redisPing(ctx, place, addr) },
		}
	})
}

// redisPing reports whether a Redis server answers PING at addr.
func redisPing(ctx context.Context, place Place, addr string) error {
	line, err := firstLine(ctx, place, addr, "PING\r\n")
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("PING answered " + strconv.Quote(line))
	}
	return nil
}
