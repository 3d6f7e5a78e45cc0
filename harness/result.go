package harness

import (
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wslb/wslb/harness/socketio"
	"github.com/wslb/wslb/report"
)

// Result is what a run (or a ping of held connections) observed.
type Result struct {
	Started time.Time
	Elapsed time.Duration
	// Clients in client order; each lists its connections in order.
	Clients []ClientResult
	// Backends counts identified connections per backend.
	Backends map[string]int

	HandshakeErrors int
	MessageErrors   int
	Sent            int64
	Echoed          int64
	ErrorSamples    []string
	// SessionUnknown counts Socket.IO requests answered "Session ID
	// unknown" (a server that does not hold the session).
	SessionUnknown int

	hist *hdrhistogram.Histogram // RTT in microseconds
}

// ClientResult is one client's connections.
type ClientResult struct {
	Client Client
	Conns  []ConnResult
}

// ConnResult is one connection.
type ConnResult struct {
	Started time.Time
	// Backend is the envelope's backend when an echo arrived, else the
	// handshake header's; empty when the connection was not identified.
	Backend string
	// EnvelopeBackend and HeaderBackend are the two sources separately.
	EnvelopeBackend string
	HeaderBackend   string
	// Status is the HTTP status of a refused handshake (e.g. 502), else 0.
	Status int
	Sent   int
	Echoed int
	// Err describes what failed; empty when the connection completed.
	Err string
	// Requests are a Socket.IO session's HTTP requests in order, each with
	// the backend that answered it; SessionUnknown counts those answered
	// "Session ID unknown".
	Requests       []socketio.Request
	SessionUnknown int
	// Emitted counts the events a Socket.IO session emitted over its
	// WebSocket (a Socket.IO server echoes nothing, so they are not Sent).
	Emitted int
}

// Backends lists the backend of every connection in order ("" for a
// connection that was not identified).
func (c ClientResult) Backends() []string {
	out := make([]string, len(c.Conns))
	for i, conn := range c.Conns {
		out[i] = conn.Backend
	}
	return out
}

// Distinct lists the backends the client reached, in first-seen order.
func (c ClientResult) Distinct() []string {
	var out []string
	seen := map[string]bool{}
	for _, conn := range c.Conns {
		if conn.Backend != "" && !seen[conn.Backend] {
			seen[conn.Backend] = true
			out = append(out, conn.Backend)
		}
	}
	return out
}

// Identified reports whether at least one connection reached a known backend.
func (c ClientResult) Identified() bool { return len(c.Distinct()) > 0 }

// Sticky reports whether every identified connection reached one backend.
func (c ClientResult) Sticky() bool { return len(c.Distinct()) == 1 }

// First is the backend of the client's first identified connection.
func (c ClientResult) First() string {
	if d := c.Distinct(); len(d) > 0 {
		return d[0]
	}
	return ""
}

// Stickiness counts the identified clients and those that stayed on one
// backend.
func (r *Result) Stickiness() (sticky, identified int) {
	for _, c := range r.Clients {
		if c.Identified() {
			identified++
			if c.Sticky() {
				sticky++
			}
		}
	}
	return sticky, identified
}

// Unsticky lists the clients that reached several backends.
func (r *Result) Unsticky() []ClientResult {
	var out []ClientResult
	for _, c := range r.Clients {
		if len(c.Distinct()) > 1 {
			out = append(out, c)
		}
	}
	return out
}

// BackendIDs lists the backends seen, sorted.
func (r *Result) BackendIDs() []string {
	ids := make([]string, 0, len(r.Backends))
	for id := range r.Backends {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Histogram returns the RTT histogram in microseconds (a copy, safe to merge).
func (r *Result) Histogram() *hdrhistogram.Histogram {
	if r.hist == nil {
		return NewHistogram()
	}
	return hdrhistogram.Import(r.hist.Export())
}

// Latency summarises the RTTs with buckets for a chart.
func (r *Result) Latency() report.Latency { return LatencyOf(r.hist) }

// NewHistogram returns an empty RTT histogram like a Result's (microseconds,
// 1 µs to 60 s at 3 significant digits), to merge Histograms into.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(1, 60_000_000, 3)
}

// LatencyOf summarises an RTT histogram in microseconds (for instance
// several results' Histograms merged) like Result.Latency.
func LatencyOf(h *hdrhistogram.Histogram) report.Latency {
	if h == nil || h.TotalCount() == 0 {
		return report.Latency{}
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	return report.Latency{
		P50:       us(h.ValueAtQuantile(50)),
		P90:       us(h.ValueAtQuantile(90)),
		P99:       us(h.ValueAtQuantile(99)),
		Max:       us(h.Max()),
		Samples:   h.TotalCount(),
		Histogram: buckets(h),
	}
}

// buckets groups the samples into bars with 1-2-5 upper bounds (10 µs,
// 20 µs, 50 µs, 100 µs, ...) from the minimum to the maximum.
func buckets(h *hdrhistogram.Histogram) []report.Bucket {
	var bounds []int64
	for b := int64(1); ; b *= 10 {
		done := false
		for _, m := range []int64{1, 2, 5} {
			v := b * m
			if v >= h.Min() || len(bounds) > 0 {
				bounds = append(bounds, v)
			}
			if v >= h.Max() {
				done = true
				break
			}
		}
		if done {
			break
		}
	}
	out := make([]report.Bucket, len(bounds))
	for i, b := range bounds {
		out[i].UpperBound = time.Duration(b) * time.Microsecond
	}
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		// A bar's values are equivalent at the histogram's precision; file
		// it under the first bound at or above its lower end.
		i := sort.Search(len(bounds), func(i int) bool { return bounds[i] >= bar.From })
		if i == len(bounds) {
			i--
		}
		out[i].Count += bar.Count
	}
	return out
}

// collector gathers connection outcomes from concurrent clients.
type collector struct {
	mu      sync.Mutex
	res     *Result
	samples int
}

func newCollector(clients []Client, samples int) *collector {
	res := &Result{
		Started:  time.Now(),
		Clients:  make([]ClientResult, len(clients)),
		Backends: map[string]int{},
		hist:     NewHistogram(),
	}
	for i, c := range clients {
		res.Clients[i].Client = c
	}
	return &collector{res: res, samples: samples}
}

// rtts records round trips in microseconds.
func (c *collector) rtts(us []int64) {
	if len(us) == 0 {
		return
	}
	c.mu.Lock()
	for _, v := range us {
		_ = c.res.hist.RecordValue(v) // values above 60 s are dropped
	}
	c.mu.Unlock()
}

// conn records a finished connection of client i. handshakeFailed tells a
// handshake error from a message error when conn.Err is set.
func (c *collector) conn(i int, conn ConnResult, handshakeFailed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cr := &c.res.Clients[i]
	cr.Conns = append(cr.Conns, conn)
	if conn.Backend != "" {
		c.res.Backends[conn.Backend]++
	}
	c.res.Sent += int64(conn.Sent)
	c.res.Echoed += int64(conn.Echoed)
	c.res.SessionUnknown += conn.SessionUnknown
	if conn.Err == "" {
		return
	}
	if handshakeFailed {
		c.res.HandshakeErrors++
	} else {
		c.res.MessageErrors++
	}
	if len(c.res.ErrorSamples) < c.samples {
		c.res.ErrorSamples = append(c.res.ErrorSamples, cr.Client.Name+": "+conn.Err)
	}
}

func (c *collector) finish() *Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res.Elapsed = time.Since(c.res.Started)
	return c.res
}
