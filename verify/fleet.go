package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/report"
)

// Client-side bounds.
const (
	// concurrency bounds clients in flight so a phase does not flood the
	// listen backlog of a small machine.
	concurrency     = 256
	maxErrorSamples = 5
	// probeFirst numbers probe identities apart from the regular clients.
	probeFirst = 50000
)

// fleet drives the clients of one pool through the harness. The clients'
// identities — source addresses, cookie jars, key values — live as long as
// the fleet, so every phase reconnects the same users.
type fleet struct {
	cfg     harness.Config
	h       *harness.Harness
	clients []harness.Client
	probes  int // probe identities handed out so far

	mu   sync.Mutex
	hist *hdrhistogram.Histogram // microseconds, merged from every phase
	errs report.Errors
	// loadTime adds up the phases absorbed: their echoes over it are the
	// throughput.
	loadTime time.Duration
}

// socketIOPath is where Socket.IO servers listen unless told otherwise.
const socketIOPath = "/socket.io/"

// newFleet makes the clients of plan, with source addresses from sources
// (the driver's client hosts; nil: this host's 127.X.Y.Z).
func newFleet(plan poolPlan, opts Options, sources harness.Sources) (*fleet, error) {
	u := url.URL{Scheme: "ws", Host: plan.Listener, Path: plan.Path}
	first, n := opts.Shard.Range(opts.Clients)
	cfg := harness.Config{
		URL:        u.String(),
		Mode:       harness.Mode(plan.Key.Mode),
		Key:        plan.Key.Name,
		SeedCookie: plan.SeedCookie,
		Clients:    n,
		// A shard's clients are the unsharded run's, numbered alike.
		FirstClient: first,
		// What Open (the held connections of reload and idle) sends on
		// each connection; the baseline passes --messages to RunClients.
		Messages:      placeMessages,
		Reconnects:    opts.Reconnects,
		Concurrency:   concurrency,
		BackendHeader: "", // the envelope names the backend; X-Backend-Id otherwise
		Client:        opts.Client,
		Origin:        plan.Origin,
		AllowRemote:   opts.AllowRemote,
		ErrorSamples:  maxErrorSamples,
		Sources:       sources,
		KeepGC:        true, // runPool sets the run's GC target
	}
	if opts.Client == harness.ClientSocketIO {
		// A Socket.IO server names nothing: the proxy's header does.
		cfg.BackendHeader = IdentityHeader
		cfg.ResolveBackend = plan.resolve
		if plan.Path == "/" {
			// A config that sends every path to the pool: Socket.IO's own.
			u.Path = socketIOPath
			cfg.URL = u.String()
		}
	}
	if plan.Host != "" {
		cfg.Header = http.Header{"Host": {plan.Host}}
	}
	h, err := harness.New(cfg)
	if err != nil {
		return nil, err
	}
	return &fleet{cfg: cfg, h: h, clients: h.Clients(), hist: harness.NewHistogram()}, nil
}

func (f *fleet) all() []int {
	idx := make([]int, len(f.clients))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// clientName names client i in traces.
func (f *fleet) clientName(i int) string { return f.clients[i].String() }

// absorb adds a harness result's round trips and errors to the run totals.
func (f *fleet) absorb(res *harness.Result) {
	if res == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hist.Merge(res.Histogram())
	f.loadTime += res.Elapsed
	f.errs.Handshake += res.HandshakeErrors
	f.errs.Message += res.MessageErrors
	f.errs.Sent += res.Sent
	f.errs.Echoed += res.Echoed
	for _, s := range res.ErrorSamples {
		if len(f.errs.Samples) < maxErrorSamples {
			f.errs.Samples = append(f.errs.Samples, s)
		}
	}
}

// traces turns the harness's per-client results for the listed clients
// into Traces.
func traces(res *harness.Result, idx []int) []Trace {
	out := make([]Trace, 0, len(idx))
	for _, i := range idx {
		if i < 0 || i >= len(res.Clients) {
			continue
		}
		c := res.Clients[i]
		t := Trace{Client: c.Client.String()}
		for _, conn := range c.Conns {
			t.Unknown += conn.SessionUnknown
			if conn.Err != "" || conn.Backend == "" {
				t.Errors++
				if conn.Err != "" && len(t.Failures) < maxFailures {
					t.Failures = append(t.Failures, conn.Err)
				}
				continue
			}
			t.Backends = append(t.Backends, conn.Backend)
		}
		out = append(out, t)
	}
	return out
}

// cycle makes each listed client connect conns times in turn, exchanging
// msgs messages per connection, and returns one Trace per client. Its round
// trips and errors count in the run's totals.
func (f *fleet) cycle(ctx context.Context, idx []int, conns, msgs int) ([]Trace, error) {
	res, err := f.h.RunClients(ctx, idx, conns-1, msgs)
	f.absorb(res)
	if err != nil {
		return nil, err
	}
	return traces(res, idx), nil
}

// probeClients connects each listed client once, with one message, without
// counting in the run's totals: it watches a transition (a backend going
// down), where failures are expected and reported by the scenario.
func (f *fleet) probeClients(ctx context.Context, idx []int) ([]Trace, error) {
	res, err := f.h.RunClients(ctx, idx, 0, 1)
	if err != nil {
		return nil, err
	}
	return traces(res, idx), nil
}

// probe connects k fresh clients (identities never used before) once each.
func (f *fleet) probe(ctx context.Context, k int) ([]Trace, error) {
	cfg := f.cfg
	cfg.Clients = k
	cfg.FirstClient = probeFirst + f.probes
	cfg.Reconnects = 0
	cfg.Messages = 1
	f.probes += k
	h, err := harness.New(cfg)
	if err != nil {
		return nil, err
	}
	res, err := h.Run(ctx) // not counted: the backend may still be down
	if err != nil {
		return nil, err
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	return traces(res, idx), nil
}

// holding is one open connection per client of a harness session.
type holding struct {
	f    *fleet
	s    *harness.Session
	held int
}

// hold opens one connection per client (with the same identities and
// cookie jars), checks it with one message (placeMessages) and keeps it
// open without traffic.
func (f *fleet) hold(ctx context.Context) (*holding, error) {
	h := f.h
	s, err := h.Open(ctx)
	if s != nil {
		f.absorb(s.Opened())
	}
	if err != nil {
		if s != nil {
			_ = s.Close()
		}
		return nil, err
	}
	hd := &holding{f: f, s: s, held: s.Open()}
	return hd, nil
}

// check sends one message on every held connection and lists those that
// were closed meanwhile or no longer echo. When ctx ends before every
// connection was pinged, the list is incomplete and the error says so.
func (hd *holding) check(ctx context.Context) ([]string, error) {
	res, err := hd.s.Ping(ctx)
	hd.f.absorb(res)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range hd.s.Closures() {
		out = append(out, closureLine(c))
	}
	return out, nil
}

func closureLine(c harness.Closure) string {
	line := fmt.Sprintf("%s on %s closed after %s", c.Client, c.Backend, c.After.Round(1e6))
	if c.Code != 0 {
		line += fmt.Sprintf(" (close code %d)", c.Code)
	}
	if c.Err != "" {
		line += ": " + c.Err
	}
	return line
}

func (hd *holding) close() { _ = hd.s.Close() }

// traces is where each client's held connection went when it opened, one
// Trace per client as a one-connection cycle gives.
func (hd *holding) traces() []Trace { return traces(hd.s.Opened(), hd.f.all()) }

// backends maps every client whose held connection is open to the backend
// serving it.
func (hd *holding) backends() map[string]string {
	m := map[string]string{}
	for _, c := range hd.s.Conns() {
		if c.Open && c.Backend != "" {
			m[c.Client.String()] = c.Backend
		}
	}
	return m
}

func (f *fleet) errors() report.Errors {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.errs
	e.Samples = append([]string(nil), f.errs.Samples...)
	return e
}

// load is the throughput of the phases absorbed and their round trips,
// which are mostly time queued behind the other clients in flight.
func (f *fleet) load() report.Load {
	f.mu.Lock()
	defer f.mu.Unlock()
	return report.Load{Messages: f.errs.Echoed, Elapsed: f.loadTime, InFlight: min(f.cfg.Concurrency, len(f.clients)), Queueing: harness.LatencyOf(f.hist)}
}
