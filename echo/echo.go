// Package echo is wslb's embedded WebSocket backend. Every reply names the
// backend that produced it, so a client behind a proxy can tell which server
// it reached: WebSocket messages come back wrapped in an Envelope, the
// handshake and every plain HTTP response carry the X-Backend-Id header.
//
// The server is built for holding many idle connections cheaply: small read
// and write buffers per connection, and one goroutine per connection (the
// reader).
package echo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wslb/wslb/internal/lazydeadline"
)

// HeaderBackendID names the backend on handshakes and plain HTTP responses.
const HeaderBackendID = "X-Backend-Id"

// HealthPath answers 200 "ok" while serving and 503 while shutting down.
const HealthPath = "/healthz"

// StatsPath answers a plain GET with the server's WebSocket counters as
// JSON (Counters): a driver that runs the server as a container of its own
// reads them there.
const StatsPath = "/.wslb/stats"

// Counters is the JSON body of StatsPath.
type Counters struct {
	Backend  string `json:"backend"`
	Open     int    `json:"open"`     // WebSocket connections open now
	Accepted uint64 `json:"accepted"` // WebSocket connections accepted
}

// CloseReasonShutdown is the close reason sent with code 1001 on Shutdown.
const CloseReasonShutdown = "backend shutting down"

// Defaults for Config fields left zero.
const (
	DefaultReadBufferSize  = 256
	DefaultWriteBufferSize = 128
	DefaultMaxMessageSize  = 64 << 10
	DefaultWriteTimeout    = 10 * time.Second
)

// Envelope is the reply to every text or binary message.
type Envelope struct {
	Backend string `json:"backend"` // the backend's ID
	Conn    uint64 `json:"conn"`    // connection sequence on this backend, from 1
	Seq     uint64 `json:"seq"`     // message sequence on this connection, from 1
	Time    int64  `json:"time"`    // server time, nanoseconds since the Unix epoch
	// Echo is the original payload. Binary payloads that are not UTF-8 have
	// their invalid bytes replaced by U+FFFD.
	Echo string `json:"echo"`
}

// Info is the JSON body of a plain (non-WebSocket) HTTP response.
type Info struct {
	Backend string `json:"backend"`
	Method  string `json:"method"`
	Path    string `json:"path"`
}

// Stats counts what the server has seen.
type Stats struct {
	Open     int    // WebSocket connections open now
	Total    uint64 // WebSocket connections accepted
	Messages uint64 // messages received and answered
	// Published counts publish messages received, Refused those the Bus
	// refused, Delivered the publications written to this node's clients.
	Published, Refused, Delivered uint64
}

// Config configures a Server.
type Config struct {
	// ID names the backend in envelopes and headers: letters, digits and
	// "._:-", at most 128 characters (the characters proxy server names use).
	ID string
	// Logger receives connection errors at debug level; nil discards.
	Logger *slog.Logger
	// ReadBufferSize is the per-connection read buffer; it bounds idle
	// memory. Messages larger than it still work.
	ReadBufferSize int
	// WriteBufferSize is the per-connection write buffer. A reply of any
	// length is still one frame and one write: gorilla sends what does not
	// fit in the buffer along with it (writev).
	WriteBufferSize int
	// MaxMessageSize closes connections that send larger messages.
	MaxMessageSize int64
	// WriteTimeout bounds each reply: a reply gets at least half of it,
	// since the deadline moves only once half of it is used up (each move
	// costs a runtime timer update).
	WriteTimeout time.Duration
	// Bus, when set, carries publish messages to every node (see
	// fanout.go); nil delivers them to this node's clients only.
	Bus Bus
}

// maxIDLen bounds a backend ID.
const maxIDLen = 128

// ValidateID reports whether id can name a backend. (A loop rather than
// the regexp ^[A-Za-z0-9._:-]{1,128}$: compiling that repetition cost
// every wslb process about 120 KB and 1,700 allocations at start.)
func ValidateID(id string) error {
	ok := len(id) >= 1 && len(id) <= maxIDLen
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
	}
	if !ok {
		return fmt.Errorf("invalid backend id %q: use 1 to 128 letters, digits, '.', '_', ':' or '-'", id)
	}
	return nil
}

// Server is an echo backend. It is an http.Handler, so it can also be
// mounted in another server (httptest.Server in tests).
type Server struct {
	cfg      Config
	log      *slog.Logger
	upgrader websocket.Upgrader

	closing atomic.Bool // Shutdown or Close has begun
	crashed atomic.Bool // Close has begun: no close frames
	total   atomic.Uint64
	msgs    atomic.Uint64

	published, refused, delivered atomic.Uint64
	// ctx ends when the server stops: it bounds publications in flight.
	ctx    context.Context
	cancel context.CancelFunc

	roomsMu sync.RWMutex
	rooms   map[string]*room

	mu    sync.Mutex
	conns map[*websocket.Conn]*member
	https []*http.Server
	wg    sync.WaitGroup // one per connection reader
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if err := ValidateID(cfg.ID); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.ReadBufferSize <= 0 {
		cfg.ReadBufferSize = DefaultReadBufferSize
	}
	if cfg.WriteBufferSize <= 0 {
		cfg.WriteBufferSize = DefaultWriteBufferSize
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = DefaultMaxMessageSize
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	s := &Server{
		cfg:   cfg,
		log:   cfg.Logger.With("backend", cfg.ID),
		conns: make(map[*websocket.Conn]*member),
		rooms: make(map[string]*room),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  cfg.ReadBufferSize,
		WriteBufferSize: cfg.WriteBufferSize,
		// Each connection writes through a small buffer of its own, not
		// one from a shared pool: taking a pooled buffer and giving it
		// back (boxed: 24 bytes of garbage) cost about 3% of a message's
		// CPU. The 142 bytes are paid for by the read buffer, halved to
		// 256 bytes (a message of a client is tens of bytes; longer ones
		// still read whole).
		// The proxy in front checks Origin; the backend accepts any.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return s, nil
}

// ID returns the backend's ID.
func (s *Server) ID() string { return s.cfg.ID }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	open := len(s.conns)
	s.mu.Unlock()
	return Stats{Open: open, Total: s.total.Load(), Messages: s.msgs.Load(),
		Published: s.published.Load(), Refused: s.refused.Load(), Delivered: s.delivered.Load()}
}

// Serve accepts connections on ln until Shutdown or Close, then returns nil.
// It may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.mu.Lock()
	s.https = append(s.https, hs)
	s.mu.Unlock()
	if s.closing.Load() {
		_ = ln.Close()
		return nil
	}
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("echo backend %s: %w", s.cfg.ID, err)
}

// ServeHTTP upgrades WebSocket requests on any path, answers HealthPath,
// and answers every other request with an Info body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(HeaderBackendID, s.cfg.ID)
	switch {
	case r.URL.Path == HealthPath:
		s.serveHealth(w)
	case r.URL.Path == StatsPath && r.Method == http.MethodGet:
		st := s.Stats()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Counters{Backend: s.cfg.ID, Open: st.Open, Accepted: st.Total})
	case websocket.IsWebSocketUpgrade(r):
		s.serveWebSocket(w, r)
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Info{Backend: s.cfg.ID, Method: r.Method, Path: r.URL.Path})
	}
}

func (s *Server) serveHealth(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.closing.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "shutting down\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	// Rooms joined with the handshake: ?room=a&room=b.
	var rooms []string
	if r.URL.RawQuery != "" {
		rooms = r.URL.Query()["room"]
		for _, name := range rooms {
			if !ValidRoom([]byte(name)) {
				http.Error(w, fmt.Sprintf("invalid room %q: use 1 to %d letters, digits, '_', ':' or '-'", name, MaxRoomName), http.StatusBadRequest)
				return
			}
		}
	}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		http.Error(w, "backend shutting down", http.StatusServiceUnavailable)
		return
	}
	// Counted from before the handshake: the client may see the 101 before
	// the connection is registered, and Shutdown must not return (and the
	// process exit) before that connection got its close frame.
	s.wg.Add(1)
	s.mu.Unlock()
	if hj, ok := w.(http.Hijacker); ok {
		w = lazyHijacker{w, hj}
	}
	c, err := s.upgrader.Upgrade(w, r, http.Header{HeaderBackendID: {s.cfg.ID}})
	if err != nil {
		s.wg.Done()
		s.log.Debug("websocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	c.SetReadLimit(s.cfg.MaxMessageSize)
	s.mu.Lock()
	if s.closing.Load() {
		// Upgraded while stopping: treated like the open connections.
		s.mu.Unlock()
		if !s.crashed.Load() {
			_ = c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseGoingAway, CloseReasonShutdown), time.Now().Add(time.Second))
		}
		_ = c.Close()
		s.wg.Done()
		return
	}
	m := &member{c: c}
	s.conns[c] = m
	s.mu.Unlock()
	for _, name := range rooms {
		s.join(m, []byte(name))
	}
	id := s.total.Add(1)
	// A fresh goroutine starts with a small stack; the HTTP server's
	// goroutine, grown while parsing the request, ends here.
	go s.readLoop(m, id)
}

// readLoop answers every message until the connection ends: a join or a
// publish (fanout.go) is handled as such, anything else echoed.
func (s *Server) readLoop(m *member, id uint64) {
	c := m.c
	defer s.wg.Done()
	defer func() {
		s.leaveAll(m)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		_ = c.Close()
	}()
	var seq uint64
	for {
		typ, r, err := c.NextReader()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				s.log.Debug("websocket read ended", "conn", id, "err", err)
			}
			return
		}
		// Buffers are taken only while a message is handled: an idle
		// connection holds none.
		b := replyPool.Get().(*replyBufs)
		b.in, err = ReadAll(b.in[:0], r)
		if err != nil {
			b.release()
			s.log.Debug("websocket read ended", "conn", id, "err", err)
			return
		}
		seq++
		// Counted before the write so a client that has its answer sees it.
		s.msgs.Add(1)
		if room, ok := PublishRoom(b.in); ok {
			err = s.publish(m, typ, room, b.in, b)
		} else if room, ok := JoinRoom(b.in); ok {
			s.join(m, room)
			b.out = AppendJoined(b.out[:0], room, s.cfg.ID)
			err = m.write(typ, b.out, s.cfg.WriteTimeout)
		} else {
			// One clock read stamps the reply and checks the deadline.
			now := time.Now()
			b.out = AppendEnvelope(b.out[:0], s.cfg.ID, id, seq, now, b.in)
			// gorilla puts the stored deadline on the socket before every
			// write; the lazydeadline.Conn under it passes on only a moved
			// one, and write moves it only now and then.
			err = m.writeAt(typ, b.out, s.cfg.WriteTimeout, now)
		}
		b.release()
		if err != nil {
			s.log.Debug("websocket write failed", "conn", id, "err", err)
			return
		}
	}
}

// lazyHijacker hands the upgrader the hijacked connection wrapped in a
// lazydeadline.Conn, so that a write deadline that did not move costs
// nothing per reply.
type lazyHijacker struct {
	http.ResponseWriter
	hj http.Hijacker
}

func (w lazyHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := w.hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return lazydeadline.New(nc), brw, nil
}

// replyBufs hold one message and its reply while it is answered (an idle
// connection holds none).
type replyBufs struct{ in, out []byte }

var replyPool = sync.Pool{New: func() any { return &replyBufs{in: make([]byte, 0, 512), out: make([]byte, 0, 1024)} }}

// release returns b to the pool, unless a large message grew it.
func (b *replyBufs) release() {
	if cap(b.in) <= maxPooledBuffer && cap(b.out) <= maxPooledBuffer {
		replyPool.Put(b)
	}
}

// maxPooledBuffer keeps one large message from pinning its buffers.
const maxPooledBuffer = 64 << 10

// Shutdown stops accepting connections, sends every WebSocket a close frame
// with code 1001 (going away) and waits until the peers have answered and
// every connection is closed. When ctx ends first, the remaining connections
// are dropped and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	defer s.cancel()
	s.mu.Lock()
	https := append([]*http.Server(nil), s.https...)
	conns := make([]*websocket.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	httpDone := make(chan error, 1)
	go func() {
		var errs []error
		for _, hs := range https {
			errs = append(errs, hs.Shutdown(ctx))
		}
		httpDone <- errors.Join(errs...)
	}()

	closeMsg := websocket.FormatCloseMessage(websocket.CloseGoingAway, CloseReasonShutdown)
	deadline := time.Now().Add(time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var sent sync.WaitGroup
	for _, c := range conns {
		sent.Go(func() {
			// The reader sees the peer's close frame and ends; a peer that
			// cannot be written to is dropped now.
			if err := c.WriteControl(websocket.CloseMessage, closeMsg, deadline); err != nil {
				_ = c.NetConn().Close()
			}
		})
	}
	sent.Wait()

	readersDone := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(readersDone)
	}()
	select {
	case <-readersDone:
	case <-ctx.Done():
		s.dropAll()
		<-readersDone
		<-httpDone
		return ctx.Err()
	}
	if err := <-httpDone; err != nil {
		return fmt.Errorf("echo backend %s: shutdown: %w", s.cfg.ID, err)
	}
	return nil
}

// Close stops at once: listeners and every connection are closed without
// a close frame, as if the backend had crashed.
func (s *Server) Close() error {
	s.crashed.Store(true)
	s.closing.Store(true)
	s.cancel()
	s.mu.Lock()
	https := append([]*http.Server(nil), s.https...)
	s.mu.Unlock()
	var errs []error
	for _, hs := range https {
		errs = append(errs, hs.Close())
	}
	s.dropAll()
	s.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("echo backend %s: close: %w", s.cfg.ID, err)
	}
	return nil
}

func (s *Server) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.NetConn().Close()
	}
}
