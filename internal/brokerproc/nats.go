package brokerproc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/sandbox"
)

// FindNATS locates nats-server.
func FindNATS() (string, error) { return find("nats-server", "nats-server") }

// StartNATS starts nats-server (core NATS, no JetStream, no monitoring
// port) on a free loopback port and waits until it greets a client.
func StartNATS(ctx context.Context, parent string) (Server, error) {
	return startNATS(ctx, parent, Place{})
}

func startNATS(ctx context.Context, parent string, place Place) (Server, error) {
	bin, err := FindNATS()
	if err != nil {
		return nil, err
	}
	return startFresh(ctx, broker.NATS, parent, 1, func(dir string, ports []int) *proc {
		addr := net.JoinHostPort(place.host(), strconv.Itoa(ports[0]))
		return &proc{
			kind: broker.NATS, place: place, dir: dir, addr: addr, url: "nats://" + addr, log: filepath.Join(dir, "output.log"),
			readyTimeout: 10 * time.Second, grace: 3 * time.Second,
			spec: func() (sandbox.Spec, error) {
				return sandbox.Spec{Binary: bin, Args: []string{"-a", place.host(), "-p", strconv.Itoa(ports[0])}}, nil
			},
			ready: func(ctx context.Context) error { return natsInfo(ctx, place, addr) },
		}
	})
}

// natsInfo reports whether a NATS server greets a client with INFO at addr.
func natsInfo(ctx context.Context, place Place, addr string) error {
	line, err := firstLine(ctx, place, addr, "")
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "INFO ") {
		return errors.New("no INFO greeting")
	}
	return nil
}

// firstLine dials addr, writes hello unless it is empty, and returns the
// first line the server sends, within a second of connecting.
func firstLine(ctx context.Context, place Place, addr, hello string) (string, error) {
	c, err := place.dial(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if hello != "" {
		if _, err := io.WriteString(c, hello); err != nil {
			return "", err
		}
	}
	return bufio.NewReader(c).ReadString('\n')
}
