package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wslb/wslb/broker"
	_ "github.com/wslb/wslb/broker/all" // every kind a node can join
	"github.com/wslb/wslb/echo"
)

// The backend process is wslb's own binary started again with these in
// its environment, which an init function here picks up before main runs
// (so test binaries serve too, like the sandbox's trampoline).
const (
	echoEnv   = "WSLB_NETNS_ECHO"
	listenEnv = "WSLB_NETNS_LISTEN"
	// The broker the backend joins, if any (driver.EchoBroker).
	brokerKindEnv    = "WSLB_NETNS_BROKER_KIND"
	brokerURLEnv     = "WSLB_NETNS_BROKER_URL"
	brokerChannelEnv = "WSLB_NETNS_BROKER_CHANNEL"
	// readyLine starts the first line the backend prints once listening.
	readyLine = "echo backend listening"
)

func init() {
	if id, ok := os.LookupEnv(echoEnv); ok {
		os.Exit(serveEcho(id, os.Getenv(listenEnv)))
	}
}

// brokerDial bounds joining the broker at start.
const brokerDial = 15 * time.Second

// serveEcho runs the echo server on addr until SIGTERM or SIGINT, then
// closes its WebSockets (1001) and exits 0. With a broker in its
// environment, it joins it first: it publishes through it and delivers
// what it hands over. It reports its counters (and its broker
// connection's changes) on stdout, and answers requests for the counters
// read from stdin (stats.go).
func serveEcho(id, addr string) int {
	cfg := echo.Config{ID: id}
	out := &lockedWriter{w: os.Stdout}
	changes := &brokerReporter{}
	var conn broker.Conn
	if url := os.Getenv(brokerURLEnv); url != "" {
		ctx, cancel := context.WithTimeout(context.Background(), brokerDial)
		defer cancel()
		var err error
		conn, err = broker.Dial(ctx, broker.Config{
			Kind: broker.Kind(os.Getenv(brokerKindEnv)), URL: url, Channel: os.Getenv(brokerChannelEnv), Node: id,
			OnState: changes.state,
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "node %s: %v\n", id, err)
			return 1
		}
		defer conn.Close()
		cfg.Bus = conn
	}
	srv, err := echo.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), brokerDial)
		defer cancel()
		if err := conn.Subscribe(ctx, srv.Deliver); err != nil {
			fmt.Fprintf(os.Stderr, "node %s: subscribing: %v\n", id, err)
			return 1
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	fmt.Fprintf(out, "%s %s on %s\n", readyLine, id, ln.Addr())
	// The counters and broker changes go to wslb after the ready line
	// (stats.go, brokerstate.go).
	changes.start(out)
	stats := &statsReporter{stats: srv.Stats, w: out}
	go stats.answer(os.Stdin)
	stop := make(chan struct{})
	defer close(stop)
	go stats.push(stop)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-sigs:
		changes.leave()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_, _ = stats.send(0) // the last count, with what came in until now
		return 0
	case err := <-done:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
}
