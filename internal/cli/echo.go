package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wslb/wslb/broker"
	_ "github.com/wslb/wslb/broker/all" // every kind --broker can name
	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/internal/words"
	"github.com/wslb/wslb/verify"
)

// EchoOptions are the flags of `wslb echo`.
type EchoOptions struct {
	IO              IOStreams
	ID              string
	Listen          string
	ShutdownTimeout time.Duration
	Verbose         bool
	// Broker is the URL of the message broker the backend shares
	// publications through, Channel where they go ({id}: the backend's).
	Broker  string
	Channel string
	// Probe, when set, is the HOST:PORT of a running echo backend to
	// health-check instead of serving.
	Probe string
}

// probeTimeout bounds `wslb echo --probe`: a container health check
// runs it every few seconds.
const probeTimeout = 2 * time.Second

// NewCmdEcho runs an echo backend in the foreground.
func NewCmdEcho(streams IOStreams) *cobra.Command {
	opts := &EchoOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "echo --id NAME [--listen ADDR]",
		Short: "Run a WebSocket echo backend that names itself in every reply",
		Long: `Run wslb's WebSocket echo backend in the foreground.

Every WebSocket message is answered with a JSON envelope naming the backend:
  {"backend":"NAME","conn":N,"seq":M,"time":UNIX_NANOSECONDS,"echo":"<payload>"}
The handshake response and every plain HTTP response carry X-Backend-Id: NAME.
GET /healthz answers 200 "ok" (503 while shutting down); GET /.wslb/stats
answers {"backend":"NAME","open":N,"accepted":M}, its WebSocket connections
open now and accepted since it started; any other plain GET
answers 200 with a small JSON body naming the backend.

Clients also join rooms and publish into them (docs/verify.md, "Fan-out"):
  {"join":"ROOM"}                        answered {"joined":"ROOM","backend":"NAME"}
  {"publish":"ROOM",...}                 delivered as is to every client of ROOM
With --broker the backend shares publications with every other backend on
the same broker and channel (redis://, nats://, amqp:// or kafka://);
without it, a publication reaches this backend's own clients only.

Once listening it prints one line, "echo backend NAME listening on ADDR", with
the real port when --listen ends in :0. On SIGINT or SIGTERM it closes every
WebSocket with code 1001 (going away) and exits 0.

With --probe HOST:PORT it serves nothing: it asks the echo backend there for
/healthz and exits 0 when it answers 200, 1 otherwise. It is the health check
of containers running the wslb image (FROM scratch: no shell, no curl).`,
		Example: `  # a backend on a fixed port
  wslb echo --id ws1 --listen 127.0.0.1:9001

  # a free port, read back from the first line of output
  wslb echo --id ws2 --listen 127.0.0.1:0

  # a node of a pool that shares rooms through Redis
  wslb echo --id ws3 --listen 127.0.0.1:9003 --broker redis://127.0.0.1:6379

  # a container's health check
  wslb echo --probe 127.0.0.1:9001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Probe != "" {
				return probeEcho(cmd.Context(), opts)
			}
			if opts.ID == "" {
				return UsageError("--id is required: the name the backend reports, e.g. --id ws1")
			}
			if err := echo.ValidateID(opts.ID); err != nil {
				return UsageError("--id: %v", err)
			}
			if _, _, err := net.SplitHostPort(opts.Listen); err != nil {
				return UsageError("--listen %q: want HOST:PORT, e.g. 127.0.0.1:9001", opts.Listen)
			}
			if opts.ShutdownTimeout <= 0 {
				return UsageError("--shutdown-timeout must be positive")
			}
			if opts.Channel != "" && opts.Broker == "" {
				return UsageError("--channel needs --broker URL")
			}
			if opts.Broker != "" {
				kind, err := verify.BrokerKindOf(opts.Broker)
				if err != nil {
					return UsageError("--broker: %v", err)
				}
				if err := broker.CheckURL(kind, opts.Broker); err != nil {
					return UsageError("--broker: %v", err)
				}
				if err := broker.CheckChannel(kind, echoChannel(opts)); err != nil {
					return UsageError("--channel: %v", err)
				}
			}
			return runEcho(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.ID, "id", "", "backend name carried in every reply (required)")
	cmd.Flags().StringVar(&opts.Listen, "listen", "127.0.0.1:0", "address to listen on; port 0 picks a free port")
	cmd.Flags().DurationVar(&opts.ShutdownTimeout, "shutdown-timeout", 5*time.Second, "how long to wait for clients to answer the close frame on exit")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "log connection errors to stderr")
	cmd.Flags().StringVar(&opts.Broker, "broker", "", "share publications with the other backends through this broker: redis://, nats://, amqp:// (RabbitMQ) or kafka:// URL")
	cmd.Flags().StringVar(&opts.Probe, "probe", "", "health-check the echo backend at HOST:PORT (GET /healthz) and exit 0 when it answers 200, instead of serving")
	cmd.Flags().StringVar(&opts.Channel, "channel", "", "where publications go on the broker (default wslb): the Redis channel prefix, NATS subject prefix, RabbitMQ exchange or Kafka topic; {id} is replaced by --id")
	return cmd
}

// echoGCPercent is the garbage collector's target for `wslb echo` unless
// GOGC is set: a backend holds thousands of idle connections, and every
// handshake leaves several KB of HTTP buffers behind; collecting at 50%
// growth instead of 100% keeps about 1 KB less resident per connection,
// while messages allocate almost nothing, so it costs no measurable CPU.
const echoGCPercent = 50

// echoSubscribeWait bounds subscribing to the broker at start.
const echoSubscribeWait = 15 * time.Second

func runEcho(ctx context.Context, opts *EchoOptions) error {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(echoGCPercent)
	}
	level := slog.LevelWarn
	if opts.Verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(opts.IO.ErrOut, &slog.HandlerOptions{Level: level}))
	cfg := echo.Config{ID: opts.ID, Logger: logger}
	var conn broker.Conn
	if opts.Broker != "" {
		kind, _ := verify.BrokerKindOf(opts.Broker)
		var err error
		conn, err = broker.Dial(ctx, broker.Config{
			Kind: kind, URL: opts.Broker, Channel: echoChannel(opts), Node: opts.ID,
			// One line per change, which a driver running this node
			// in a container reads back (broker.ParseStateLine).
			OnState: func(s broker.State, err error) {
				fmt.Fprintln(opts.IO.ErrOut, broker.StateLine(s, err))
			},
		})
		if err != nil {
			return fmt.Errorf("echo backend %s: %w", opts.ID, err)
		}
		defer conn.Close()
		cfg.Bus = conn
	}
	srv, err := echo.New(cfg)
	if err != nil {
		return UsageError("--id: %v", err)
	}
	if conn != nil {
		// Bounded: NATS refuses a subscription without a deadline.
		sctx, cancel := context.WithTimeout(ctx, echoSubscribeWait)
		err := conn.Subscribe(sctx, srv.Deliver)
		cancel()
		if err != nil {
			return fmt.Errorf("echo backend %s: subscribing: %w", opts.ID, err)
		}
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("echo backend %s: %w", opts.ID, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if _, err := fmt.Fprintf(opts.IO.Out, "echo backend %s listening on %s\n", opts.ID, ln.Addr()); err != nil {
		_ = srv.Close()
		return err
	}

	select {
	case err := <-served:
		_ = srv.Close()
		return err
	case <-ctx.Done():
	}
	// The command's context is already cancelled; shutdown gets its own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; serr != nil {
		return serr
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Clients that never answered the close frame were dropped; the
		// backend still stopped as asked.
		fmt.Fprintf(opts.IO.ErrOut, "echo backend %s: some clients did not answer the close frame within %s and were dropped\n", opts.ID, opts.ShutdownTimeout)
		return nil
	}
	return err
}

// probeEcho asks the echo backend at opts.Probe for /healthz (exit 1
// unless it answers 200).
func probeEcho(ctx context.Context, opts *EchoOptions) error {
	if _, _, err := net.SplitHostPort(opts.Probe); err != nil {
		return UsageError("--probe %q: want HOST:PORT, e.g. 127.0.0.1:9001", opts.Probe)
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	url := "http://" + opts.Probe + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return UsageError("--probe %q: %v", opts.Probe, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("probe %s: %s", url, resp.Status)
	}
	_, err = fmt.Fprintf(opts.IO.Out, "%s: ok\n", url)
	return err
}

// echoChannel is the broker channel of `wslb echo`: --channel (default
// the broker's) with {id} replaced by --id.
func echoChannel(opts *EchoOptions) string {
	c := opts.Channel
	if c == "" {
		c = broker.DefaultChannel
	}
	return strings.ReplaceAll(c, verify.NodeTemplate, opts.ID)
}

// brokerKindNames lists the broker kinds wslb knows.
func brokerKindNames() []string {
	out := make([]string, len(broker.KnownKinds))
	for i, k := range broker.KnownKinds {
		out[i] = string(k)
	}
	return out
}

// brokerKinds is brokerKindNames as "a, b or c".
func brokerKinds() string { return words.Or(brokerKindNames()) }
