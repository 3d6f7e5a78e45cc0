package harness_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/harness"
)

func TestSourceAddrs(t *testing.T) {
	t.Parallel()
	seen := map[[4]byte]bool{}
	prefixes := map[[3]byte]bool{}
	var prev [4]byte
	for i := range harness.MaxSourceClients {
		a, err := harness.SourceAddr(i)
		require.NoError(t, err)
		b := a.As4()
		// Plain checks: require is slow over 62,500 iterations.
		if b[0] != 127 || b[1] == 0 || b[2] == 0 || b[2] == 255 || b[3] == 0 || b[3] == 255 {
			t.Fatalf("client %d: %s is outside 127.1-250.1-250.1-250", i, a)
		}
		if seen[b] {
			t.Fatalf("client %d: %s repeated", i, a)
		}
		if i > 0 && (prev[2] == b[2] || prev[3] == b[3]) {
			t.Fatalf("clients %d and %d: %v and %s must differ in the third and fourth octet", i-1, i, prev, a)
		}
		seen[b] = true
		prefixes[[3]byte{b[0], b[1], b[2]}] = true
		prev = b
	}
	require.Len(t, prefixes, harness.MaxSourceClients, "every client has its own /24")
	_, err := harness.SourceAddr(harness.MaxSourceClients)
	require.Error(t, err)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     harness.Config
		wantErr string
	}{
		{name: "remote", cfg: harness.Config{URL: "ws://example.com/", Clients: 1}, wantErr: "--allow-remote"},
		{name: "remote ip", cfg: harness.Config{URL: "ws://10.0.0.1:80/", Clients: 1}, wantErr: "--allow-remote"},
		{name: "remote source", cfg: harness.Config{URL: "ws://10.0.0.1/", Clients: 1, Mode: harness.ModeSource, AllowRemote: true}, wantErr: "needs an IPv4 loopback target"},
		{name: "ipv6 source", cfg: harness.Config{URL: "ws://[::1]:80/", Clients: 1, Mode: harness.ModeSource}, wantErr: "needs an IPv4 loopback target"},
		{name: "scheme", cfg: harness.Config{URL: "http://127.0.0.1/", Clients: 1}, wantErr: "scheme must be ws or wss"},
		{name: "no clients", cfg: harness.Config{URL: "ws://127.0.0.1/"}, wantErr: "clients must be at least 1"},
		{name: "mode", cfg: harness.Config{URL: "ws://127.0.0.1/", Clients: 1, Mode: "ip"}, wantErr: `unknown mode "ip"`},
		{name: "header name", cfg: harness.Config{URL: "ws://127.0.0.1/", Clients: 1, Mode: harness.ModeHeader, Key: "X Bad"}, wantErr: "not a valid HTTP header name"},
		{name: "backend header", cfg: harness.Config{URL: "ws://127.0.0.1/", Clients: 1, BackendHeader: "a\nb"}, wantErr: "backend header"},
		{name: "too many sources", cfg: harness.Config{URL: "ws://127.0.0.1/", Clients: harness.MaxSourceClients + 1, Mode: harness.ModeSource}, wantErr: "distinct source addresses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := harness.New(tt.cfg)
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
		})
	}
	for _, cfg := range []harness.Config{
		{URL: "ws://example.com/", Clients: 1, AllowRemote: true},
		{URL: "ws://localhost:80/", Clients: 1},
		{URL: "wss://[::1]/x", Clients: 1, Mode: harness.ModeQuery},
	} {
		_, err := harness.New(cfg)
		require.NoError(t, err, cfg.URL)
	}
}

func TestIdentitiesPerMode(t *testing.T) {
	t.Parallel()
	for _, mode := range harness.Modes {
		h, err := harness.New(harness.Config{URL: "ws://127.0.0.1:1/", Clients: 43, Mode: mode})
		require.NoError(t, err)
		c := h.Clients()[42]
		require.Equal(t, "client-0042", c.Name)
		require.Equal(t, mode == harness.ModeSource, c.Source.IsValid(), mode)
		if mode == harness.ModeHeader || mode == harness.ModeQuery {
			require.Equal(t, "client-0042", c.Value)
		}
	}
	h, err := harness.New(harness.Config{URL: "ws://127.0.0.1:1/", Clients: 43, Mode: harness.ModeSource})
	require.NoError(t, err)
	require.Equal(t, "client-0042 (127.1.43.43)", h.Clients()[42].String())
}

func TestRunIsStickyThroughAnAffinityProxy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode harness.Mode
		key  string
	}{
		{mode: harness.ModeSource},
		{mode: harness.ModeCookie, key: "SRV"},
		{mode: harness.ModeHeader, key: "X-Session-Id"},
		{mode: harness.ModeQuery, key: "sid"},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			t.Parallel()
			backends := startBackends(t, "ws1", "ws2", "ws3")
			proxy, url := startAffinityProxy(t, tt.mode, tt.key, backends)
			const clients, reconnects, messages = 30, 2, 2
			h, err := harness.New(harness.Config{
				URL: url, Mode: tt.mode, Key: tt.key,
				Clients: clients, Reconnects: reconnects, Messages: messages,
				Concurrency:   8,
				BackendHeader: proxyServerHeader,
			})
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := h.Run(ctx)
			require.NoError(t, err)

			require.Zero(t, res.HandshakeErrors, res.ErrorSamples)
			require.Zero(t, res.MessageErrors, res.ErrorSamples)
			require.Equal(t, int64(clients*(reconnects+1)*messages), res.Sent)
			require.Equal(t, res.Sent, res.Echoed)
			require.Equal(t, res.Sent, res.Latency().Samples)

			sticky, identified := res.Stickiness()
			require.Equal(t, clients, identified)
			require.Equal(t, clients, sticky, "unsticky: %v", res.Unsticky())
			require.Equal(t, []string{"ws1", "ws2", "ws3"}, res.BackendIDs(), "every backend gets clients")
			total := 0
			for _, n := range res.Backends {
				total += n
			}
			require.Equal(t, clients*(reconnects+1), total)
			for _, c := range res.Clients {
				require.Len(t, c.Conns, reconnects+1)
				for _, conn := range c.Conns {
					require.Equal(t, conn.EnvelopeBackend, conn.HeaderBackend, "the proxy's header and the envelope agree")
					require.Equal(t, messages, conn.Echoed)
				}
			}

			// The proxy saw a distinct identity per client, on every connection.
			seen := proxy.identities()
			switch tt.mode {
			case harness.ModeCookie:
				// The first handshake has no cookie; the rest carry the one set.
				require.Equal(t, clients, seen[""])
				delete(seen, "")
				n := 0
				for _, v := range seen {
					n += v
				}
				require.Equal(t, clients*reconnects, n)
			default:
				require.Len(t, seen, clients)
				for id, n := range seen {
					require.Equal(t, reconnects+1, n, id)
				}
			}
		})
	}
}

func TestRunRoundRobinIsNotSticky(t *testing.T) {
	t.Parallel()
	backends := startBackends(t, "ws1", "ws2")
	_, url := startAffinityProxy(t, harness.ModeNone, "", backends)
	h, err := harness.New(harness.Config{URL: url, Clients: 10, Reconnects: 3, Messages: 1, BackendHeader: proxyServerHeader})
	require.NoError(t, err)
	res, err := h.Run(context.Background())
	require.NoError(t, err)
	sticky, identified := res.Stickiness()
	require.Equal(t, 10, identified)
	require.Less(t, sticky, identified)
	un := res.Unsticky()
	require.NotEmpty(t, un)
	require.ElementsMatch(t, []string{"ws1", "ws2"}, un[0].Distinct())
	require.Equal(t, 20, res.Backends["ws1"])
	require.Equal(t, 20, res.Backends["ws2"])
}

func TestRunCountsHandshakeErrorsWhenTheBackendDies(t *testing.T) {
	t.Parallel()
	srv, err := echo.New(echo.Config{ID: "ws1"})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var upgrades atomic.Int64
	hs := &http.Server{}
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if upgrades.Add(1) == 10 {
			// Die after the tenth handshake, like a crashed server.
			go func() { _ = hs.Close(); _ = srv.Close() }()
		}
		srv.ServeHTTP(w, r)
	})
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close(); _ = srv.Close() })

	const clients, reconnects = 20, 4
	h, err := harness.New(harness.Config{URL: "ws://" + ln.Addr().String() + "/", Clients: clients, Reconnects: reconnects, Messages: 2, Concurrency: 4})
	require.NoError(t, err)
	res, err := h.Run(context.Background())
	require.NoError(t, err)

	conns := 0
	failed := 0
	for _, c := range res.Clients {
		conns += len(c.Conns)
		for _, conn := range c.Conns {
			if conn.Err != "" {
				failed++
			}
		}
	}
	require.Equal(t, clients*(reconnects+1), conns, "every connection attempt is recorded")
	require.Equal(t, failed, res.HandshakeErrors+res.MessageErrors)
	require.Greater(t, res.HandshakeErrors, 0)
	require.GreaterOrEqual(t, res.Backends["ws1"], 1)
	// The handshakes in progress when it died may still have completed.
	require.Less(t, res.Backends["ws1"], clients*(reconnects+1))
	require.Len(t, res.ErrorSamples, harness.DefaultErrorSamples)
	require.Contains(t, strings.Join(res.ErrorSamples, "\n"), "handshake")
}

func TestRunCountsMessageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reply   func(c *websocket.Conn, payload []byte)
		timeout time.Duration // short only where no reply comes: a slow box must not turn a bad reply into a timeout
		wantErr string
	}{
		{name: "silent", reply: func(*websocket.Conn, []byte) {}, timeout: 200 * time.Millisecond, wantErr: "waiting for echo"},
		{name: "not an envelope", reply: func(c *websocket.Conn, p []byte) { _ = c.WriteMessage(websocket.TextMessage, p) }, wantErr: "not an echo envelope"},
		{name: "wrong echo", reply: func(c *websocket.Conn, _ []byte) {
			_ = c.WriteMessage(websocket.TextMessage, []byte(`{"backend":"x","echo":"other"}`))
		}, wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := serveHTTP(t, upgrading(func(c *websocket.Conn) {
				for {
					_, p, err := c.ReadMessage()
					if err != nil {
						return
					}
					tt.reply(c, p)
				}
			}))

			h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Clients: 3, Reconnects: 1, Messages: 2, MessageTimeout: tt.timeout})
			require.NoError(t, err)
			res, err := h.Run(context.Background())
			require.NoError(t, err)
			require.Zero(t, res.HandshakeErrors)
			require.Equal(t, 6, res.MessageErrors, "one per connection: it ends at the first bad message")
			require.Equal(t, int64(6), res.Sent)
			require.Zero(t, res.Echoed)
			require.Contains(t, res.ErrorSamples[0], tt.wantErr)
		})
	}
}

// A deadline or a cancel (Ctrl-C) stops the clients waiting for their
// handshake at once, and no other client is tried.
func TestRunStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  func() (context.Context, func())
		want error
	}{
		{name: "deadline", want: context.DeadlineExceeded, ctx: func() (context.Context, func()) {
			ctx := newExpiringContext()
			return ctx, ctx.expire
		}},
		{name: "cancel", want: context.Canceled, ctx: func() (context.Context, func()) {
			return context.WithCancel(context.Background())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Accepts TCP connections and never answers the handshake.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			t.Cleanup(func() { _ = ln.Close() })
			accepted := make(chan struct{}, 100)
			go func() {
				var held []net.Conn
				defer func() {
					for _, c := range held {
						_ = c.Close()
					}
				}()
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					held = append(held, c)
					accepted <- struct{}{}
				}
			}()
			const clients, concurrency = 50, 10
			h, err := harness.New(harness.Config{
				URL: "ws://" + ln.Addr().String() + "/", Clients: clients, Reconnects: 3, Messages: 1,
				Concurrency: concurrency, HandshakeTimeout: time.Minute,
			})
			require.NoError(t, err)

			ctx, end := tt.ctx()
			type ran struct {
				res *harness.Result
				err error
			}
			done := make(chan ran, 1)
			go func() {
				res, err := h.Run(ctx)
				done <- ran{res, err}
			}()
			// The context ends once every client in flight waits for its
			// handshake, however slowly the machine got them there.
			for range concurrency {
				select {
				case <-accepted:
				case <-time.After(30 * time.Second):
					t.Fatal("the clients never connected")
				}
			}
			end()
			var r ran
			select {
			case r = <-done:
			case <-time.After(30 * time.Second): // far below the one-minute handshake timeout
				t.Fatal("Run did not stop when its context ended")
			}
			require.ErrorIs(t, r.err, tt.want)
			require.Equal(t, concurrency, r.res.HandshakeErrors, r.res.ErrorSamples)
			untried := 0
			for _, c := range r.res.Clients {
				if len(c.Conns) == 0 {
					untried++
				}
			}
			require.Equal(t, clients-concurrency, untried)
			require.Zero(t, r.res.Sent)
		})
	}
}

// expiringContext is a context whose deadline passes when expire is
// called, whenever that is.
type expiringContext struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newExpiringContext() *expiringContext {
	return &expiringContext{Context: context.Background(), done: make(chan struct{})}
}

func (c *expiringContext) expire()               { c.once.Do(func() { close(c.done) }) }
func (c *expiringContext) Done() <-chan struct{} { return c.done }

func (c *expiringContext) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

func TestRunRecordsRefusedHandshakeStatus(t *testing.T) {
	t.Parallel()
	addr := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no upstream", http.StatusBadGateway)
	}))

	h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Clients: 2, Messages: 1})
	require.NoError(t, err)
	res, err := h.Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 2, res.HandshakeErrors)
	for _, c := range res.Clients {
		require.Equal(t, http.StatusBadGateway, c.Conns[0].Status)
		require.False(t, c.Identified())
	}
	require.Contains(t, res.ErrorSamples[0], "HTTP 502 Bad Gateway")
}

func TestFirstClientShiftsIdentities(t *testing.T) {
	t.Parallel()
	h, err := harness.New(harness.Config{URL: "ws://127.0.0.1:1/", Clients: 2, FirstClient: 42, Mode: harness.ModeSource})
	require.NoError(t, err)
	want, err := harness.SourceAddr(43)
	require.NoError(t, err)
	c := h.Clients()[1]
	require.Equal(t, "client-0043", c.Name)
	require.Equal(t, want, c.Source)
	require.Equal(t, 1, c.Index, "Index is the position in this harness")

	_, err = harness.New(harness.Config{URL: "ws://127.0.0.1:1/", Clients: 2, FirstClient: harness.MaxSourceClients - 1, Mode: harness.ModeSource})
	require.ErrorContains(t, err, "distinct source addresses")
	_, err = harness.New(harness.Config{URL: "ws://127.0.0.1:1/", Clients: 2, FirstClient: -1})
	require.ErrorContains(t, err, "must not be negative")
}

func TestRunClientsRunsOnlyThoseGiven(t *testing.T) {
	t.Parallel()
	backends := startBackends(t, "ws1")
	h, err := harness.New(harness.Config{URL: "ws://" + backends[0].addr + "/", Clients: 5, Reconnects: 3, Messages: 3})
	require.NoError(t, err)
	res, err := h.RunClients(context.Background(), []int{1, 3, 99}, 1, 2)
	require.NoError(t, err)
	require.Len(t, res.Clients, 5, "every client is listed")
	for i, c := range res.Clients {
		if i == 1 || i == 3 {
			require.Len(t, c.Conns, 2, "reconnects given per call")
			require.Equal(t, 2, c.Conns[0].Echoed, "messages given per call")
		} else {
			require.Empty(t, c.Conns, c.Client.Name)
		}
	}
	require.Equal(t, int64(8), res.Sent)
}

func TestRunBoundsClientsInFlight(t *testing.T) {
	t.Parallel()
	var active, peak atomic.Int64
	addr := serveHTTP(t, upgrading(func(c *websocket.Conn) {
		n := active.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		// Counted out before the close reply, so before the client can
		// start its next connection.
		c.SetCloseHandler(func(code int, _ string) error {
			active.Add(-1)
			return c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
		})
		for {
			_, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond) // let clients overlap
			reply := `{"backend":"slow","echo":` + strconv.Quote(string(p)) + `}`
			if err := c.WriteMessage(websocket.TextMessage, []byte(reply)); err != nil {
				return
			}
		}
	}))

	h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Clients: 12, Reconnects: 1, Messages: 2, Concurrency: 3})
	require.NoError(t, err)
	res, err := h.Run(context.Background())
	require.NoError(t, err)
	require.Zero(t, res.HandshakeErrors+res.MessageErrors, res.ErrorSamples)
	require.Equal(t, 24, res.Backends["slow"])
	require.LessOrEqual(t, peak.Load(), int64(3))
	require.Greater(t, peak.Load(), int64(1), "clients run concurrently")
}

// serveHTTP serves h on a free loopback port until the test ends and
// returns the address.
func serveHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: h}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	return ln.Addr().String()
}

// upgrading answers every request with a WebSocket handshake and hands the
// connection to serve, closing it when serve returns.
func upgrading(serve func(c *websocket.Conn)) http.Handler {
	up := websocket.Upgrader{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	})
}

// With SeedCookie every client brings its own session cookie from the
// first handshake on, as an application that sets the cookie would.
func TestSeedCookieSendsEachClientsCookieFirst(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	addr := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Cookie")]++
		mu.Unlock()
		upgrading(func(*websocket.Conn) {}).ServeHTTP(w, r)
	}))
	const clients, reconnects = 5, 1
	h, err := harness.New(harness.Config{
		URL: "ws://" + addr + "/live", Mode: harness.ModeCookie, Key: "sid", SeedCookie: true,
		Clients: clients, Reconnects: reconnects,
	})
	require.NoError(t, err)
	require.Equal(t, "client-0003", h.Clients()[3].Value)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = h.Run(ctx)
	require.NoError(t, err)

	require.Len(t, seen, clients, "one distinct cookie per client: %v", seen)
	for i := range clients {
		require.Equal(t, reconnects+1, seen["sid="+harness.ClientName(i)], "client %d", i)
	}

	_, err = harness.New(harness.Config{URL: "ws://" + addr, Mode: harness.ModeCookie, Key: "bad name", SeedCookie: true})
	require.ErrorContains(t, err, "not a valid cookie name")
	_, err = harness.New(harness.Config{URL: "ws://" + addr, Mode: harness.ModeQuery, SeedCookie: true})
	require.ErrorContains(t, err, "needs cookie mode")
}
