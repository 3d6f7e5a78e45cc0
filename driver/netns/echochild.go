package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wslb/wslb/echo"
)

// The backend process is wslb's own binary started again with these in
// its environment, which an init function here picks up before main runs
// (so test binaries serve too, like the sandbox's trampoline).
const (
	echoEnv   = "WSLB_NETNS_ECHO"
	listenEnv = "WSLB_NETNS_LISTEN"
	// readyLine starts the first line the backend prints once listening.
	readyLine = "echo backend listening"
)

func init() {
	if id, ok := os.LookupEnv(echoEnv); ok {
		os.Exit(serveEcho(id, os.Getenv(listenEnv)))
	}
}

// serveEcho runs the echo server on addr until SIGTERM or SIGINT, then
// closes its WebSockets (1001) and exits 0. It reports its counters on
// stdout, and answers requests for them read from stdin (stats.go).
func serveEcho(id, addr string) int {
	srv, err := echo.New(echo.Config{ID: id})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	fmt.Printf("%s %s on %s\n", readyLine, id, ln.Addr())
	// The counters go to wslb after the ready line (stats.go).
	stats := &statsReporter{stats: srv.Stats, w: os.Stdout}
	go stats.answer(os.Stdin)
	stop := make(chan struct{})
	defer close(stop)
	go stats.push(stop)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case <-sigs:
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
