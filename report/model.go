// Package report holds the results of `wslb verify` and renders them: a
// terminal report read at a glance, JSON for machines and a self-contained
// HTML page with charts.
package report

import "time"

// Summary is everything one `wslb verify` invocation produced: one Run per
// proxy (--proxy all runs both).
type Summary struct {
	Passed bool
	Source string // the topology or config verified
	Runs   []*Run
}

// Run is the verification of one proxy.
type Run struct {
	Proxy        string // "haproxy" | "nginx"
	ProxyVersion string // e.g. "2.6.12"
	Pool         string // the pool (backend/upstream) exercised
	Affinity     Affinity
	// Driver ran the nodes ("loopback", "netns"); Hosts says where: the
	// proxy's listener, each backend's address, the clients' sources.
	Driver string
	// DriverWhy says why that driver: named by --driver, or auto's pick
	// and why the drivers auto prefers could not run.
	DriverWhy string
	Hosts     Hosts
	// Images are the container images the nodes ran from (a driver that
	// runs containers); none for processes on the host.
	Images []Image
	// Broker is the message broker the nodes shared (kind, address,
	// channel), "" when none.
	Broker   string
	Passed   bool
	Started  time.Time
	Duration time.Duration

	Clients    int
	Reconnects int // connections per client after the first
	Messages   int // messages per connection

	Scenarios []*Scenario
	// Stickiness is the fraction of clients whose connections all reached
	// one backend, in the stickiness scenario.
	Stickiness float64
	Backends   []*Backend
	// RTT is the echo round trip through the proxy, measured by a probe
	// of a few connections with one message in flight at a time, and
	// DirectRTT the same probe straight to a backend, in the same run: the
	// difference is what the proxy adds.
	RTT       Latency
	DirectRTT Latency
	// Load is what the load phases (many clients in flight) measured:
	// throughput and the round trips under load, mostly queueing.
	Load   Load
	Errors Errors
	// Timeline records what happened when (backend stopped, reload, ...),
	// for the failover chart.
	Timeline []Event
}

// Hosts are the addresses a run used.
type Hosts struct {
	Proxy    string            // the listener the clients reached, HOST:PORT
	Backends map[string]string // server id → HOST:PORT
	Clients  string            // the clients' sources, e.g. "127.X.Y.Z on this host"
}

// Image is a container image a run's nodes ran from.
type Image struct {
	Role string `json:"role"` // proxy, node, backend, broker
	Ref  string `json:"ref"`  // as named: "haproxy:2.6"
	ID   string `json:"id"`   // the engine's image ID ("sha256:…"), "" if unknown
}

// Affinity describes what the run keyed clients on.
type Affinity struct {
	Mode string // source | cookie | header | query | none
	Key  string // cookie, header or parameter name
}

// Scenario is one check (stickiness, spread, failover, reload, idle).
type Scenario struct {
	Name    string
	Passed  bool
	Skipped bool
	// Summary is a one-line statement with the deciding numbers, e.g.
	// "200/200 clients stayed on one backend (100.0%)".
	Summary string
	Metrics []Metric
	Details []string // e.g. clients that hit several backends
	Elapsed time.Duration
}

// Metric is a named number of a scenario, shown in its table.
type Metric struct {
	Name  string
	Value float64
	Unit  string // "%", "ms", "clients", ...
}

// Backend is one echo backend's share of the traffic.
type Backend struct {
	ID          string
	Weight      int
	Backup      bool
	Clients     int // clients whose first connection landed here
	Connections int // connections served
}

// Latency summarises echo round trips.
type Latency struct {
	P50       time.Duration
	P90       time.Duration
	P99       time.Duration
	Max       time.Duration
	Samples   int64
	Histogram []Bucket
}

// ProxyAdded is the median round trip the proxy adds (probe through the
// proxy minus probe straight to a backend); ok is false without both.
func (r *Run) ProxyAdded() (time.Duration, bool) {
	if r.RTT.Samples == 0 || r.DirectRTT.Samples == 0 {
		return 0, false
	}
	return r.RTT.P50 - r.DirectRTT.P50, true
}

// Load is the load phases' throughput and queueing delay.
type Load struct {
	Messages int64 // echoed in the load phases
	Elapsed  time.Duration
	InFlight int // clients in flight at most
	// Queueing is the round trips measured under that load: the path
	// plus the time each message waited behind the others.
	Queueing Latency
}

// Throughput is echoed messages per second in the load phases.
func (l Load) Throughput() float64 {
	if l.Elapsed <= 0 {
		return 0
	}
	return float64(l.Messages) / l.Elapsed.Seconds()
}

// Bucket is one bar of the RTT histogram: Count samples at or below
// UpperBound and above the previous bucket's bound.
type Bucket struct {
	UpperBound time.Duration
	Count      int64
}

// Errors counts what went wrong on the client side.
type Errors struct {
	Handshake int
	Message   int
	Dropped   int // established connections closed unexpectedly
	Sent      int64
	Echoed    int64
	Samples   []string // a few error messages
}

// Event kinds the renderers know. Any other kind is still drawn as a
// neutral marker on the timeline.
const (
	EventBackendDown = "backend-down" // a backend was stopped (failover)
	EventBackendUp   = "backend-up"   // a stopped backend came back
	EventReload      = "reload"       // the proxy was reloaded gracefully
	// EventSample only carries counts (Connections, Served): a point of
	// the timeline chart without a marker.
	EventSample = "sample"
)

// Event is a point on the run's timeline.
type Event struct {
	At     time.Duration // since Started
	Kind   string        // one of the Event* kinds, or another word
	Detail string
	// Connections per backend open at that moment.
	Connections map[string]int
	// Served counts per backend the connections open at any time during
	// the Interval that ends at this event (open at its start or opened
	// within it), for the timeline chart. Verify's clients connect and
	// disconnect within milliseconds, so Connections, an instant's count,
	// misses most of them. Set on samples only.
	Served   map[string]int
	Interval time.Duration
}
