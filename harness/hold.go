package harness

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Session holds one connection per client open. No goroutine reads an idle
// connection: a single monitor peeks at every socket each CheckInterval to
// notice peer closes, so a held connection costs little more than its
// socket and a small read buffer.
type Session struct {
	h       *Harness
	started time.Time
	conns   []*held
	opened  *Result

	mu       sync.Mutex
	closures []Closure

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// held is one client's connection slot.
type held struct {
	mu      sync.Mutex // held by whoever uses c: the monitor, Ping, Close
	client  int
	c       *websocket.Conn // nil when not open
	backend string          // resolved backend of the current connection
	header  string          // backend named by its handshake header
	since   time.Time
	connNo  int // connections opened by this client
	msgs    int // messages sent on the current connection
}

// Closure is a held connection that ended without the harness closing it.
type Closure struct {
	Client  Client
	Backend string
	At      time.Time
	After   time.Duration // since the session opened
	// Code is the WebSocket close code the peer sent; 0 when the
	// connection just ended (TCP close or reset) or failed a ping.
	Code int
	Err  string
}

// HeldConn is a snapshot of one client's slot.
type HeldConn struct {
	Client  Client
	Open    bool
	Backend string
	Since   time.Time // when the current connection opened
}

// Open connects every client once, exchanges Messages messages on each
// (so the envelope names its backend) and keeps the connections open until
// Close. Failed handshakes are recorded in Opened; the error is non-nil
// only when ctx ended before every client was tried. The session is
// returned in every case and must be closed.
func (h *Harness) Open(ctx context.Context) (*Session, error) {
	s := &Session{
		h:       h,
		started: time.Now(),
		conns:   make([]*held, len(h.clients)),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	for i := range s.conns {
		s.conns[i] = &held{client: i}
	}
	release := len(s.conns) >= releaseAfter && !h.cfg.KeepGC
	if release {
		defer lowerGC()()
	}
	res, err := s.connect(ctx, s.conns)
	s.opened = res
	if release {
		// The handshakes' garbage (HTTP buffers and headers, several KB
		// per connection) would otherwise stay resident until the heap
		// doubles; a held session is long and quiet, so return it now.
		debug.FreeOSMemory()
	}
	go s.monitor()
	return s, err
}

// releaseAfter is the session size from which Open returns freed memory to
// the operating system (one collection, a few milliseconds).
const releaseAfter = 1000

// openGCPercent is the GC target while a large session opens. Every
// handshake leaves several KB of garbage next to the few hundred bytes the
// connection keeps; collected often, that garbage's slots are reused
// instead of leaving sparse pages resident once the session goes quiet.
const openGCPercent = 25

// Sessions may open concurrently: the first lowers the GC target and the
// last restores the one it found.
var (
	gcMu    sync.Mutex
	gcOpens int
	gcSaved int
)

// lowerGC sets openGCPercent (unless the target is lower already or
// collection is off) until the returned func is called.
func lowerGC() (restore func()) {
	gcMu.Lock()
	defer gcMu.Unlock()
	if gcOpens == 0 {
		gcSaved = debug.SetGCPercent(openGCPercent)
		if gcSaved <= openGCPercent {
			debug.SetGCPercent(gcSaved)
		}
	}
	gcOpens++
	return func() {
		gcMu.Lock()
		defer gcMu.Unlock()
		if gcOpens--; gcOpens == 0 {
			debug.SetGCPercent(gcSaved)
		}
	}
}

// Opened is the result of opening the connections.
func (s *Session) Opened() *Result { return s.opened }

// connect dials the given (closed) slots, Concurrency at a time.
func (s *Session) connect(ctx context.Context, slots []*held) (*Result, error) {
	h := s.h
	return s.each(ctx, slots, "opening connections", func(col *collector, k int, sl *held) {
		if sl.c != nil {
			return
		}
		sl.connNo++
		conn, cr, err := h.dial(ctx, sl.client, heldReadBufferSize)
		if err != nil {
			cr.Err = fmt.Sprintf("conn %d: %v", sl.connNo, err)
			col.conn(k, cr, true)
			return
		}
		var st connState
		defer st.flush(col)
		for m := 1; m <= h.cfg.Messages; m++ {
			if err := h.exchange(conn, &st, &cr, sl.client, sl.connNo, m); err != nil {
				cr.Err = fmt.Sprintf("conn %d message %d: %v", sl.connNo, m, err)
				_ = conn.Close()
				col.conn(k, cr, false)
				return
			}
		}
		// Deadlines set while exchanging must not fire on the idle
		// connection later.
		_ = conn.SetReadDeadline(time.Time{})
		_ = conn.SetWriteDeadline(time.Time{})
		sl.c, sl.backend, sl.header, sl.since, sl.msgs = conn, cr.Backend, cr.HeaderBackend, time.Now(), h.cfg.Messages
		col.conn(k, cr, false)
	})
}

// Redial reconnects every client whose connection is closed, with the same
// identity (and cookie jar). The result lists only those clients.
func (s *Session) Redial(ctx context.Context) (*Result, error) {
	return s.connect(ctx, s.slots(false))
}

// Ping sends one message on every open connection and waits for its echo.
// Connections that fail are closed and recorded as closures. The result
// lists the clients that had an open connection.
func (s *Session) Ping(ctx context.Context) (*Result, error) {
	h := s.h
	return s.each(ctx, s.slots(true), "ping", func(col *collector, k int, sl *held) {
		if sl.c == nil {
			return // closed since the list was taken
		}
		cr := ConnResult{Started: time.Now(), Backend: sl.backend, HeaderBackend: sl.header}
		sl.msgs++
		var st connState // its deadline is cleared again below: the connection goes idle
		defer st.flush(col)
		err := h.exchange(sl.c, &st, &cr, sl.client, sl.connNo, sl.msgs)
		if err != nil {
			cr.Err = fmt.Sprintf("ping: %v", err)
			s.closed(sl, errCode(err), cr.Err)
		} else {
			_ = sl.c.SetReadDeadline(time.Time{})
			_ = sl.c.SetWriteDeadline(time.Time{})
		}
		col.conn(k, cr, false)
	})
}

// slots lists the slots whose connection is open (or closed).
func (s *Session) slots(open bool) []*held {
	var out []*held
	for _, sl := range s.conns {
		sl.mu.Lock()
		if (sl.c != nil) == open {
			out = append(out, sl)
		}
		sl.mu.Unlock()
	}
	return out
}

// each runs do on every slot, Concurrency at a time, each with the slot
// locked, and collects what they record; k is the slot's index in slots
// and in the result. Once ctx ends no more are started and the error names
// step.
func (s *Session) each(ctx context.Context, slots []*held, step string, do func(col *collector, k int, sl *held)) (*Result, error) {
	clients := make([]Client, len(slots))
	for k, sl := range slots {
		clients[k] = s.h.clients[sl.client]
	}
	col := newCollector(clients, s.h.cfg.ErrorSamples)
	bounded(ctx, len(slots), s.h.cfg.Concurrency, func(k int) {
		sl := slots[k]
		sl.mu.Lock()
		defer sl.mu.Unlock()
		do(col, k, sl)
	})
	res := col.finish()
	if ended(ctx) {
		return res, fmt.Errorf("harness: %s stopped: %w", step, endErr(ctx))
	}
	return res, nil
}

// closed records that sl's connection ended; sl.mu is held.
func (s *Session) closed(sl *held, code int, reason string) {
	_ = sl.c.Close()
	now := time.Now()
	s.mu.Lock()
	s.closures = append(s.closures, Closure{
		Client:  s.h.clients[sl.client],
		Backend: sl.backend,
		At:      now,
		After:   now.Sub(s.started),
		Code:    code,
		Err:     reason,
	})
	s.mu.Unlock()
	sl.c = nil
}

// Closures lists the connections that ended without the harness closing
// them, in the order noticed.
func (s *Session) Closures() []Closure {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Closure(nil), s.closures...)
}

// Open counts the connections open now (as of the last check).
func (s *Session) Open() int {
	n := 0
	for _, sl := range s.conns {
		sl.mu.Lock()
		if sl.c != nil {
			n++
		}
		sl.mu.Unlock()
	}
	return n
}

// Conns snapshots every client's slot.
func (s *Session) Conns() []HeldConn {
	out := make([]HeldConn, len(s.conns))
	for i, sl := range s.conns {
		sl.mu.Lock()
		out[i] = HeldConn{Client: s.h.clients[sl.client], Open: sl.c != nil, Backend: sl.backend, Since: sl.since}
		sl.mu.Unlock()
	}
	return out
}

// Backends counts the open connections per backend.
func (s *Session) Backends() map[string]int {
	out := map[string]int{}
	for _, c := range s.Conns() {
		if c.Open {
			out[c.Backend]++
		}
	}
	return out
}

// Check looks at every idle connection once for a peer close, as the
// monitor does every CheckInterval; it returns the number still open.
func (s *Session) Check() int {
	open := 0
	for _, sl := range s.conns {
		if !sl.mu.TryLock() {
			open++ // in use by Ping: it notices failures itself
			continue
		}
		if sl.c != nil {
			if st := peek(sl.c); st.closed {
				s.closed(sl, st.code, st.reason)
			} else {
				open++
			}
		}
		sl.mu.Unlock()
	}
	return open
}

func (s *Session) monitor() {
	defer close(s.done)
	t := time.NewTicker(s.h.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Check()
		}
	}
}

// Close stops the monitor and closes every open connection with a normal
// close frame, without waiting for the peers' answers.
func (s *Session) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	<-s.done
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	deadline := time.Now().Add(time.Second)
	for _, sl := range s.conns {
		sl.mu.Lock()
		if sl.c != nil {
			_ = sl.c.WriteControl(websocket.CloseMessage, msg, deadline)
			_ = sl.c.Close()
			sl.c = nil
		}
		sl.mu.Unlock()
	}
	return nil
}
