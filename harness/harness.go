package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/internal/lazydeadline"
)

// Buffer sizes: reads are small echoes, writes use a shared pool, so an
// idle connection holds only its small read buffer. A held connection
// (Open) is read rarely, so it keeps gorilla's smallest (a control
// frame's payload); Run reads a reply per message, which fits in 256.
const (
	readBufferSize     = 256
	heldReadBufferSize = 128
	writeBufferSize    = 1024
)

// Harness runs clients against one target. The clients' identities, and in
// cookie mode their cookie jars, live as long as the Harness, so a second
// Run (after a failover, say) reconnects the same clients.
type Harness struct {
	cfg     Config
	target  *url.URL
	clients []Client
	jars    []http.CookieJar // cookie mode only
	pool    websocket.BufferPool
	// keepAlive is the dialer's TCP keep-alive period: off (-1) for a
	// loopback target, where a peer cannot vanish unseen and the four
	// setsockopt calls per connection would only cost time.
	keepAlive time.Duration
}

// New validates cfg and builds the clients.
func New(cfg Config) (*Harness, error) {
	cfg = cfg.withDefaults()
	u, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	clients, err := identities(cfg)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	h := &Harness{cfg: cfg, target: u, clients: clients, pool: &sync.Pool{}}
	if isLoopbackHost(u.Hostname()) {
		h.keepAlive = -1
	}
	if cfg.Mode == ModeCookie {
		h.jars = make([]http.CookieJar, len(clients))
		for i := range h.jars {
			jar, err := cookiejar.New(nil)
			if err != nil {
				return nil, fmt.Errorf("harness: cookie jar: %w", err)
			}
			if cfg.SeedCookie {
				jar.SetCookies(cookieURL(u), []*http.Cookie{{Name: cfg.Key, Value: clients[i].Value, Path: "/"}})
			}
			h.jars[i] = jar
		}
	}
	return h, nil
}

// cookieURL is the http(s) form of a ws(s) URL: cookie jars, like the
// WebSocket dialer, keep cookies for http and https only.
func cookieURL(u *url.URL) *url.URL {
	c := *u
	switch c.Scheme {
	case "ws":
		c.Scheme = "http"
	case "wss":
		c.Scheme = "https"
	}
	return &c
}

// Config returns the configuration with defaults applied.
func (h *Harness) Config() Config { return h.cfg }

// Clients lists the clients' identities in order.
func (h *Harness) Clients() []Client { return append([]Client(nil), h.clients...) }

// Run connects every client Reconnects+1 times, one after the other, and
// exchanges Messages messages on each connection. At most Concurrency
// clients run at once. When ctx ends first, Run stops the clients in
// flight and returns what was recorded together with an error.
func (h *Harness) Run(ctx context.Context) (*Result, error) {
	all := make([]int, len(h.clients))
	for i := range all {
		all[i] = i
	}
	return h.RunClients(ctx, all, h.cfg.Reconnects, h.cfg.Messages)
}

// RunClients is Run for the clients with the given indexes only, with the
// reconnects and messages given per call: a scenario can probe some
// clients once each and keep their identities (and cookie jars). The
// result lists every client; those not run have no connections.
func (h *Harness) RunClients(ctx context.Context, idx []int, reconnects, messages int) (*Result, error) {
	col := newCollector(h.clients, h.cfg.ErrorSamples)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(h.cfg.Concurrency, len(idx)) {
		wg.Go(func() {
			for i := range next {
				if ended(ctx) {
					continue // drain: clients not started are not tried
				}
				for n := 0; n <= reconnects && !ended(ctx); n++ {
					if h.cfg.Client == ClientSocketIO {
						h.sioSession(ctx, col, i, n+1, messages)
					} else {
						h.session(ctx, col, i, n+1, messages)
					}
				}
			}
		})
	}
feed:
	for _, i := range idx {
		if i < 0 || i >= len(h.clients) {
			continue
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	res := col.finish()
	if ended(ctx) {
		return res, fmt.Errorf("harness: run stopped before all clients finished: %w", endErr(ctx))
	}
	return res, nil
}

// session is one connection of client i: handshake, messages, clean close.
func (h *Harness) session(ctx context.Context, col *collector, i, connNo, messages int) {
	conn, cr, err := h.dial(ctx, i, readBufferSize)
	if err != nil {
		cr.Err = fmt.Sprintf("conn %d: %v", connNo, err)
		col.conn(i, cr, true)
		return
	}
	// Unblock reads and writes when the run is cancelled.
	stop := context.AfterFunc(ctx, func() { _ = conn.NetConn().Close() })
	defer stop()
	var st connState
	defer st.flush(col)
	for m := 1; m <= messages; m++ {
		if err := h.exchange(conn, &st, &cr, i, connNo, m); err != nil {
			cr.Err = fmt.Sprintf("conn %d message %d: %v", connNo, m, err)
			_ = conn.Close()
			col.conn(i, cr, false)
			return
		}
	}
	h.closeClean(conn)
	col.conn(i, cr, false)
}

// netDialer dials TCP connections for client c: from its source address
// in source mode, without keep-alive probes to a loopback target.
func (h *Harness) netDialer(c Client) func(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: h.cfg.HandshakeTimeout, KeepAlive: h.keepAlive}
	network := "tcp"
	if c.Source.IsValid() {
		network = "tcp4"
		nd.LocalAddr = &net.TCPAddr{IP: c.Source.AsSlice()}
	}
	sources := h.cfg.sources()
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		return sources.Dial(ctx, nd, network, addr)
	}
}

// dial performs client i's handshake, with a read buffer of readBuf
// bytes. The returned ConnResult carries the start time and the backend
// named by the handshake header.
func (h *Harness) dial(ctx context.Context, i, readBuf int) (*websocket.Conn, ConnResult, error) {
	cr := ConnResult{Started: time.Now()}
	c := h.clients[i]
	netDial := h.netDialer(c)
	// The dialer watches only ctx's deadline while it waits for the
	// handshake response; a cancel (Ctrl-C) must end that wait too.
	stopWatch := func() bool { return true }
	d := websocket.Dialer{
		NetDialContext: func(dctx context.Context, _, addr string) (net.Conn, error) {
			nc, err := netDial(dctx, "", addr)
			if err != nil {
				return nil, err
			}
			stopWatch = context.AfterFunc(ctx, func() { _ = nc.Close() })
			// gorilla puts its stored write deadline on the socket before
			// every frame; exchange moves it only now and then.
			return lazydeadline.New(nc), nil
		},
		Proxy:            nil, // never an environment proxy: the target is the proxy under test
		TLSClientConfig:  h.cfg.TLSConfig,
		HandshakeTimeout: h.cfg.HandshakeTimeout,
		ReadBufferSize:   readBuf,
		WriteBufferSize:  writeBufferSize,
		WriteBufferPool:  h.pool,
	}
	if h.jars != nil {
		d.Jar = h.jars[i]
	}
	header, target := h.identity(c)
	conn, resp, err := d.DialContext(ctx, target.String(), header)
	if !stopWatch() && err == nil {
		// Cancelled as the handshake completed: the watch closed it.
		_ = conn.Close()
		return nil, cr, fmt.Errorf("handshake: %w", endErr(ctx))
	}
	if err != nil {
		if resp != nil {
			cr.Status = resp.StatusCode
			return nil, cr, fmt.Errorf("handshake: HTTP %d %s from %s", resp.StatusCode, http.StatusText(resp.StatusCode), h.target.Host)
		}
		return nil, cr, fmt.Errorf("handshake: %w", err)
	}
	cr.HeaderBackend = resp.Header.Get(h.cfg.BackendHeader)
	if cr.HeaderBackend == "" {
		cr.HeaderBackend = resp.Header.Get(echo.HeaderBackendID)
	}
	cr.Backend = cr.HeaderBackend
	return conn, cr, nil
}

// msgBufs are one exchange's payload and reply buffers, pooled so that the
// message path allocates nothing of its own.
type msgBufs struct{ out, in []byte }

var msgPool = sync.Pool{New: func() any { return &msgBufs{out: make([]byte, 0, 256), in: make([]byte, 0, 512)} }}

// connState is what exchange keeps per connection: the current read and
// write deadline (zero: none yet) and the round trips not yet recorded.
type connState struct {
	deadline time.Time
	rtts     []int64 // microseconds
}

// flush records st's round trips in col: one lock per connection rather
// than per message (the clients in flight would contend for it).
func (st *connState) flush(col *collector) {
	col.rtts(st.rtts)
	st.rtts = st.rtts[:0]
}

// identity is the handshake header and target URL of client c: the
// configured headers and Origin, and c's affinity key in the header or
// query the mode names.
func (h *Harness) identity(c Client) (http.Header, url.URL) {
	header := http.Header{}
	for k, v := range h.cfg.Header {
		header[k] = append([]string(nil), v...)
	}
	if h.cfg.Origin != "" {
		header.Set("Origin", h.cfg.Origin)
	}
	target := *h.target
	switch h.cfg.Mode {
	case ModeHeader:
		header.Set(h.cfg.Key, c.Value)
	case ModeQuery:
		q := target.Query()
		q.Set(h.cfg.Key, c.Value)
		target.RawQuery = q.Encode()
	}
	return header, target
}

// exchange sends message m and waits for its echo, recording the RTT in st
// and the envelope's backend in cr. The deadlines are moved only when half
// of MessageTimeout is used up, since each move resets a runtime timer
// (gorilla sets the stored write deadline on the socket before every write;
// the lazydeadline.Conn under it passes on only a moved one), so a message
// gets between half and all of MessageTimeout.
func (h *Harness) exchange(conn *websocket.Conn, st *connState, cr *ConnResult, i, connNo, m int) error {
	b := msgPool.Get().(*msgBufs)
	defer msgPool.Put(b)
	b.out = h.appendPayload(b.out[:0], i, connNo, m)
	payload := b.out
	start := time.Now()
	if st.deadline.Sub(start) < h.cfg.MessageTimeout/2 {
		st.deadline = start.Add(h.cfg.MessageTimeout)
		_ = conn.SetWriteDeadline(st.deadline)
		_ = conn.SetReadDeadline(st.deadline)
	}
	cr.Sent++
	if err := conn.WriteMessage(websocket.TextMessage, payload); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	var err error
	b.in, err = readMessage(conn, b.in[:0])
	if err != nil {
		return fmt.Errorf("waiting for echo: %w", err)
	}
	rtt := time.Since(start)
	data := b.in
	env, err := echo.ParseEnvelope(data)
	if err != nil {
		return fmt.Errorf("reply is not an echo envelope: %.60q", data)
	}
	if !env.EchoIs(payload) {
		return fmt.Errorf("echo from %s does not match: sent %.40q, got %.40q", env.Backend, payload, env.Echo())
	}
	if cr.EnvelopeBackend == "" {
		cr.EnvelopeBackend = string(env.Backend)
	} else if string(env.Backend) != cr.EnvelopeBackend {
		return fmt.Errorf("backend changed within the connection: %s then %s", cr.EnvelopeBackend, env.Backend)
	}
	cr.Backend = cr.EnvelopeBackend
	cr.Echoed++
	st.rtts = append(st.rtts, max(rtt.Microseconds(), 1))
	return nil
}

// readMessage reads the next data message into buf (grown as needed).
func readMessage(conn *websocket.Conn, buf []byte) ([]byte, error) {
	_, r, err := conn.NextReader()
	if err != nil {
		return buf, err
	}
	return echo.ReadAll(buf, r)
}

// appendPayload appends the payload of message m of client i's connection
// connNo, which identifies it, padded to MessageSize.
func (h *Harness) appendPayload(dst []byte, i, connNo, m int) []byte {
	start := len(dst)
	dst = append(dst, h.clients[i].Name...)
	dst = append(dst, " c"...)
	dst = strconv.AppendInt(dst, int64(connNo), 10)
	dst = append(dst, " m"...)
	dst = strconv.AppendInt(dst, int64(m), 10)
	dst = append(dst, ' ')
	for len(dst)-start < h.cfg.MessageSize {
		dst = append(dst, 'x')
	}
	return dst
}

// closeClean sends a normal close frame and waits briefly for the peer's.
func (h *Harness) closeClean(conn *websocket.Conn) {
	deadline := time.Now().Add(min(h.cfg.MessageTimeout, time.Second))
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := conn.WriteControl(websocket.CloseMessage, msg, deadline); err == nil {
		_ = conn.SetReadDeadline(deadline)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				break
			}
		}
	}
	_ = conn.Close()
}

// ended reports whether ctx is done or past its deadline: connection
// deadlines derived from ctx can fire a moment before ctx.Err is set.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// bounded runs do(i) for i in [0, n), at most limit at a time, and
// returns once those it started are done. Once ctx ends it starts no more.
func bounded(ctx context.Context, n, limit int, do func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ended(ctx) {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			do(i)
		})
	}
	wg.Wait()
}

// endErr is why ctx ended: its error, or DeadlineExceeded when the
// deadline has passed but the context's timer has not fired yet.
func endErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// errCode returns the close code of a WebSocket close error, or 0.
func errCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
