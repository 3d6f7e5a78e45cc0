package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

// Client-side bounds.
const (
	handshakeTimeout = 5 * time.Second
	messageTimeout   = 5 * time.Second
	// maxInFlight bounds concurrent handshakes so a phase does not flood
	// the listen backlog of a 2-core machine.
	maxInFlight     = 256
	maxErrorSamples = 5
	clientBuf       = 512
)

// client is one simulated user. Its identity — source address, cookie jar,
// or key value — stays the same across phases, as a returning user's would.
type client struct {
	id    string
	local *net.TCPAddr // source address (source affinity), else nil
	jar   http.CookieJar
	url   string
	hdr   http.Header
}

// fleet drives the clients of one pool and accumulates their round-trip
// times and errors.
type fleet struct {
	plan    poolPlan
	clients []*client
	dialer  websocket.Dialer
	probes  int // fresh identities handed out so far

	mu   sync.Mutex
	hist *hdrhistogram.Histogram // microseconds
	errs report.Errors
}

func newFleet(plan poolPlan, opts Options) (*fleet, error) {
	f := &fleet{
		plan: plan,
		hist: hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3),
		dialer: websocket.Dialer{
			HandshakeTimeout: handshakeTimeout,
			ReadBufferSize:   clientBuf,
			WriteBufferSize:  clientBuf,
			WriteBufferPool:  &sync.Pool{},
			Proxy:            nil, // never an HTTP proxy from the environment
		},
	}
	if !opts.AllowRemote {
		host, _, err := net.SplitHostPort(plan.Listener)
		if err != nil {
			return nil, fmt.Errorf("listener %q: %w", plan.Listener, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("listener %s is not on loopback; pass --allow-remote to send traffic there", plan.Listener)
		}
	}
	for i := range opts.Clients {
		c, err := f.newClient(i)
		if err != nil {
			return nil, err
		}
		f.clients = append(f.clients, c)
	}
	return f, nil
}

// sourceAddr is the i-th client source address. Consecutive clients
// differ in the third octet (NGINX ip_hash keys on the /24) and, after
// 250 clients, in the fourth too; probes use a separate second octet.
func sourceAddr(i int) net.IP {
	return net.IPv4(127, byte(10+i/62500), byte(1+i%250), byte(1+(i/250)%250))
}

// newClient makes client i; i ≥ probeBase are fresh probe identities.
func (f *fleet) newClient(i int) (*client, error) {
	c := &client{id: fmt.Sprintf("client-%04d", i), hdr: http.Header{}}
	u := url.URL{Scheme: "ws", Host: f.plan.Listener, Path: f.plan.Path}
	switch f.plan.Key.Mode {
	case topology.AffinitySource:
		ip := sourceAddr(i)
		c.local = &net.TCPAddr{IP: ip}
		c.id = ip.String()
	case topology.AffinityCookie:
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("cookie jar: %w", err)
		}
		c.jar = jar
	case topology.AffinityHeader:
		c.hdr.Set(f.plan.Key.Name, c.id)
	case topology.AffinityQuery:
		u.RawQuery = url.Values{f.plan.Key.Name: {c.id}}.Encode()
	}
	if f.plan.Host != "" {
		c.hdr.Set("Host", f.plan.Host)
	}
	if f.plan.Origin != "" {
		c.hdr.Set("Origin", f.plan.Origin)
	}
	c.url = u.String()
	return c, nil
}

// probeBase numbers probe identities apart from the regular clients.
const probeBase = 500000

func (f *fleet) all() []int {
	idx := make([]int, len(f.clients))
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func (f *fleet) close() {}

// cycle makes each listed client connect conns times in turn, exchanging
// msgs messages per connection, and returns one Trace per client.
func (f *fleet) cycle(ctx context.Context, idx []int, conns, msgs int) ([]Trace, error) {
	return f.cycleClients(ctx, pick(f.clients, idx), conns, msgs)
}

// probe connects k fresh clients (identities never used before) once each.
func (f *fleet) probe(ctx context.Context, k int) ([]Trace, error) {
	var cs []*client
	for range k {
		c, err := f.newClient(probeBase + f.probes)
		if err != nil {
			return nil, err
		}
		f.probes++
		cs = append(cs, c)
	}
	return f.cycleClients(ctx, cs, 1, 1)
}

func pick(all []*client, idx []int) []*client {
	out := make([]*client, len(idx))
	for i, j := range idx {
		out[i] = all[j]
	}
	return out
}

func (f *fleet) cycleClients(ctx context.Context, cs []*client, conns, msgs int) ([]Trace, error) {
	traces := make([]Trace, len(cs))
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i, c := range cs {
		traces[i].Client = c.id
		wg.Go(func() {
			for range conns {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				backend, err := f.session(ctx, c, msgs)
				<-sem
				if err != nil {
					traces[i].Errors++
					continue
				}
				traces[i].Backends = append(traces[i].Backends, backend)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return traces, nil
}

// session is one connection: handshake, msgs echoes, close. It returns the
// backend that served it.
func (f *fleet) session(ctx context.Context, c *client, msgs int) (string, error) {
	conn, backend, err := f.dial(ctx, c)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	for i := range msgs {
		b, err := f.echo(conn, i+1)
		if err != nil {
			return "", err
		}
		if i == 0 {
			// The envelope names the backend that echoed.
			backend = b
		}
	}
	_ = conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return backend, nil
}

// dial opens a WebSocket for c and returns the backend the proxy's identity
// header or the echo backend's handshake header names.
func (f *fleet) dial(ctx context.Context, c *client) (*websocket.Conn, string, error) {
	d := f.dialer
	d.Jar = c.jar
	nd := net.Dialer{Timeout: handshakeTimeout, LocalAddr: c.local}
	d.NetDialContext = nd.DialContext
	conn, resp, err := d.DialContext(ctx, c.url, c.hdr)
	if err != nil {
		status := ""
		if resp != nil {
			status = " (HTTP " + strconv.Itoa(resp.StatusCode) + ")"
			resp.Body.Close()
		}
		f.fail(true, fmt.Sprintf("%s: handshake: %v%s", c.id, err, status))
		return nil, "", err
	}
	backend := resp.Header.Get(echo.HeaderBackendID)
	if backend == "" {
		backend = resp.Header.Get(IdentityHeader)
	}
	return conn, backend, nil
}

// echo sends one message and waits for its envelope; it returns the backend
// named in the envelope.
func (f *fleet) echo(conn *websocket.Conn, seq int) (string, error) {
	payload := "wslb " + strconv.Itoa(seq)
	start := time.Now()
	_ = conn.SetWriteDeadline(start.Add(messageTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, []byte(payload)); err != nil {
		f.fail(false, fmt.Sprintf("write: %v", err))
		return "", err
	}
	f.mu.Lock()
	f.errs.Sent++
	f.mu.Unlock()
	_ = conn.SetReadDeadline(time.Now().Add(messageTimeout))
	_, reply, err := conn.ReadMessage()
	if err != nil {
		f.fail(false, fmt.Sprintf("read: %v", err))
		return "", err
	}
	rtt := time.Since(start)
	var env echo.Envelope
	if err := json.Unmarshal(reply, &env); err != nil || env.Echo != payload {
		err := fmt.Errorf("unexpected reply %.60q", reply)
		f.fail(false, err.Error())
		return "", err
	}
	f.mu.Lock()
	f.errs.Echoed++
	_ = f.hist.RecordValue(max(int64(rtt/time.Microsecond), 1))
	f.mu.Unlock()
	return env.Backend, nil
}

func (f *fleet) fail(handshake bool, sample string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if handshake {
		f.errs.Handshake++
	} else {
		f.errs.Message++
	}
	if len(f.errs.Samples) < maxErrorSamples {
		f.errs.Samples = append(f.errs.Samples, sample)
	}
}

// holding is a set of open connections, one per client.
type holding struct {
	f     *fleet
	conns []*websocket.Conn
	ids   []string
	// failed are clients whose connection could not be opened.
	failed []string
}

// hold opens one connection per listed client, checks it with one echo and
// keeps it open without traffic.
func (f *fleet) hold(ctx context.Context, idx []int) (*holding, error) {
	cs := pick(f.clients, idx)
	h := &holding{f: f, conns: make([]*websocket.Conn, len(cs)), ids: make([]string, len(cs))}
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, c := range cs {
		h.ids[i] = c.id
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			conn, _, err := f.dial(ctx, c)
			if err == nil {
				if _, err = f.echo(conn, 1); err != nil {
					conn.Close()
				}
			}
			if err != nil {
				mu.Lock()
				h.failed = append(h.failed, fmt.Sprintf("%s: could not open: %v", c.id, err))
				mu.Unlock()
				return
			}
			h.conns[i] = conn
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// held is how many connections were open.
func (h *holding) held() int {
	n := 0
	for _, c := range h.conns {
		if c != nil {
			n++
		}
	}
	return n
}

// check sends one message on every held connection and lists those that
// no longer echo.
func (h *holding) check(ctx context.Context) []string {
	var mu sync.Mutex
	var dropped []string
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	for i, c := range h.conns {
		if c == nil {
			continue
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if _, err := h.f.echo(c, 2); err != nil {
				mu.Lock()
				dropped = append(dropped, fmt.Sprintf("%s: %v", h.ids[i], err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return dropped
}

func (h *holding) close() {
	for i, c := range h.conns {
		if c != nil {
			_ = c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(100*time.Millisecond))
			c.Close()
			h.conns[i] = nil
		}
	}
}

func (f *fleet) errors() report.Errors {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.errs
	e.Samples = append([]string(nil), f.errs.Samples...)
	return e
}

// latency summarizes the round trips with a log-scale histogram.
func (f *fleet) latency() report.Latency {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hist
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	l := report.Latency{
		P50: us(h.ValueAtQuantile(50)), P90: us(h.ValueAtQuantile(90)),
		P99: us(h.ValueAtQuantile(99)), Max: us(h.Max()), Samples: h.TotalCount(),
	}
	if l.Samples == 0 {
		return l
	}
	// Buckets double from 25 µs until they cover the maximum.
	var bounds []int64
	for b := int64(25); ; b *= 2 {
		bounds = append(bounds, b)
		if b >= h.Max() {
			break
		}
	}
	counts := make([]int64, len(bounds))
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		for i, b := range bounds {
			if bar.To <= b || i == len(bounds)-1 {
				counts[i] += bar.Count
				break
			}
		}
	}
	for i, b := range bounds {
		l.Histogram = append(l.Histogram, report.Bucket{UpperBound: us(b), Count: counts[i]})
	}
	return l
}
