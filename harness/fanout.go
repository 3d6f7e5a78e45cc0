package harness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/report"
)

// Fan-out: every client holds one connection, joins a room (echo's
// fanout.go messages) and publishes into it; every client counts what it
// receives from each publisher of its room. A client whose connection
// drops reconnects with the same identity, joins again and goes on; the
// time it was away is recorded, so that a judge can tell messages missed
// while away from messages lost.

// FanoutSpec shapes a fan-out run.
type FanoutSpec struct {
	// RoomSize is how many clients share a room: clients are put in rooms
	// in order (client i in room i / RoomSize), so that with round-robin
	// balancing every room has clients on every node.
	RoomSize int
	// Messages is how many messages each client publishes.
	Messages int
	// ReconnectFor bounds how long a dropped client keeps trying to come
	// back (default 30 s).
	ReconnectFor time.Duration
}

// Window is a time a client was away: from when its connection dropped to
// when it had joined its room again (zero: it never came back).
type Window struct {
	Dropped  time.Time
	Rejoined time.Time
	Why      string
}

// FanoutClient is what one client observed.
type FanoutClient struct {
	Client Client
	Room   string
	// RoomStart and RoomLen place the room's publishers: clients
	// RoomStart .. RoomStart+RoomLen-1.
	RoomStart, RoomLen int
	// Backends are the nodes that served it: the first connection's, then
	// one per reconnect.
	Backends []string
	Away     []Window
	// Got counts deliveries of each message of each publisher of the
	// room: Got[p*Messages+seq-1] for the room's p-th publisher
	// (saturating at 255).
	Got []uint8
	// Reordered counts deliveries older than one already received from
	// the same publisher; Foreign counts deliveries of other rooms or
	// unknown publishers; Other counts messages that were none of these.
	Reordered, Foreign, Other int
	// SentAt is when each of its own messages was sent (zero: never), Via
	// the node it was sent through; Refused marks those the node answered
	// "refused".
	SentAt  []time.Time
	Via     []string
	Refused []bool
	// FirstAt is when each of its messages first reached any client
	// (zero: none): about when the broker handed it to the nodes.
	FirstAt []time.Time
	// Err says why the client never joined.
	Err string
}

// FanoutResult is everything a fan-out run observed.
type FanoutResult struct {
	Messages int
	Clients  []FanoutClient
	// Latency is publish-to-delivery time over every delivery; Span is
	// from the first message published to the last delivery.
	Latency report.Latency
	Span    time.Duration
}

// Fanout is a running fan-out: every client connected and joined.
type Fanout struct {
	h       *Harness
	spec    FanoutSpec
	subs    []*subscriber
	byName  map[string]int
	closing atomic.Bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	histMu sync.Mutex
	hist   *hdrhistogram.Histogram
	// firstPublish and lastDelivery bound the deliveries (unix nanos).
	firstPublish, lastDelivery atomic.Int64
}

// subscriber is one client's connection and bookkeeping.
type subscriber struct {
	i         int
	room      string
	start, n  int
	wmu       sync.Mutex // writes and the conn field
	conn      *websocket.Conn
	pending   []int // its own messages waiting for the connection
	mu        sync.Mutex
	res       FanoutClient
	last      []uint64 // latest seq received per publisher of the room
	lat       []int64  // latencies (µs) not yet in the histogram
	delivered atomic.Int64
	firstAt   []atomic.Int64 // per own message: first delivery anywhere, unix nanos
}

// RoomName is the name of room r.
func RoomName(r int) string { return fmt.Sprintf("wslb-room-%d", r) }

// OpenFanout connects every client (Concurrency at a time), joins it to its
// room and starts reading. Clients that could not join are recorded (Err)
// and take no part. The Fanout must be closed.
func (h *Harness) OpenFanout(ctx context.Context, spec FanoutSpec) (*Fanout, error) {
	if spec.RoomSize < 1 || spec.Messages < 1 {
		return nil, errors.New("harness: fan-out needs a room size and messages of at least 1")
	}
	if spec.ReconnectFor <= 0 {
		spec.ReconnectFor = 30 * time.Second
	}
	n := len(h.clients)
	f := &Fanout{h: h, spec: spec, subs: make([]*subscriber, n), byName: make(map[string]int, n), hist: NewHistogram()}
	f.ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for i := range n {
		r := i / spec.RoomSize
		start := r * spec.RoomSize
		size := min(spec.RoomSize, n-start)
		s := &subscriber{i: i, room: RoomName(r), start: start, n: size, last: make([]uint64, size), firstAt: make([]atomic.Int64, spec.Messages)}
		s.res = FanoutClient{
			Client: h.clients[i], Room: s.room, RoomStart: start, RoomLen: size,
			Got: make([]uint8, size*spec.Messages), SentAt: make([]time.Time, spec.Messages),
			Via: make([]string, spec.Messages), Refused: make([]bool, spec.Messages),
		}
		f.subs[i] = s
		f.byName[h.clients[i].Name] = i
	}
	bounded(ctx, len(f.subs), h.cfg.Concurrency, func(i int) {
		s := f.subs[i]
		conn, backend, err := f.connect(ctx, s)
		if err != nil {
			s.mu.Lock()
			s.res.Err = err.Error()
			s.mu.Unlock()
			return
		}
		s.wmu.Lock()
		s.conn = conn
		s.wmu.Unlock()
		s.mu.Lock()
		s.res.Backends = append(s.res.Backends, backend)
		s.mu.Unlock()
		f.wg.Go(func() { f.read(s, conn) })
	})
	if ended(ctx) {
		return f, fmt.Errorf("harness: opening fan-out clients stopped: %w", endErr(ctx))
	}
	return f, nil
}

// connect dials client s, joins its room and returns the connection and
// the node that acknowledged the join.
func (f *Fanout) connect(ctx context.Context, s *subscriber) (*websocket.Conn, string, error) {
	conn, _, err := f.h.dial(ctx, s.i, readBufferSize)
	if err != nil {
		return nil, "", err
	}
	deadline := time.Now().Add(f.h.cfg.MessageTimeout)
	_ = conn.SetWriteDeadline(deadline)
	_ = conn.SetReadDeadline(deadline)
	if err := conn.WriteMessage(websocket.TextMessage, echo.AppendJoin(nil, s.room)); err != nil {
		_ = conn.Close()
		return nil, "", fmt.Errorf("join: %w", err)
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		_ = conn.Close()
		return nil, "", fmt.Errorf("waiting for the join's answer: %w", err)
	}
	room, backend, ok := echo.JoinedRoom(msg)
	if !ok || string(room) != s.room {
		_ = conn.Close()
		return nil, "", fmt.Errorf("join answered with %.80q, not {\"joined\":%q,...}", msg, s.room)
	}
	_ = conn.SetReadDeadline(time.Time{})
	_ = conn.SetWriteDeadline(time.Time{})
	return conn, string(backend), nil
}

// read handles what s receives until the Fanout closes, reconnecting when
// the connection drops.
func (f *Fanout) read(s *subscriber, conn *websocket.Conn) {
	buf := make([]byte, 0, 256)
	for {
		_, r, err := conn.NextReader()
		if err == nil {
			buf, err = echo.ReadAll(buf[:0], r)
		}
		if err != nil {
			if f.closing.Load() {
				return
			}
			if conn = f.reconnect(s, err); conn == nil {
				return
			}
			continue
		}
		f.handle(s, buf)
	}
}

// latencyBatch is how many latencies a subscriber keeps before adding them
// to the shared histogram (one lock per batch, not per delivery).
const latencyBatch = 32

// flushLatency adds s's pending latencies to the histogram; s.mu is held.
func (f *Fanout) flushLatency(s *subscriber) {
	if len(s.lat) == 0 {
		return
	}
	f.histMu.Lock()
	for _, v := range s.lat {
		_ = f.hist.RecordValue(v)
	}
	f.histMu.Unlock()
	s.lat = s.lat[:0]
}

// handle records one message s received.
func (f *Fanout) handle(s *subscriber, msg []byte) {
	now := time.Now()
	if p, ok := echo.ParsePublish(msg); ok {
		i, known := f.byName[string(p.From)]
		k := f.spec.Messages
		if known && p.Seq >= 1 && p.Seq <= uint64(k) {
			first := &f.subs[i].firstAt[p.Seq-1]
			for at := now.UnixNano(); ; {
				old := first.Load()
				if old != 0 && old <= at || first.CompareAndSwap(old, at) {
					break
				}
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if !known || string(p.Room) != s.room || i < s.start || i >= s.start+s.n || p.Seq < 1 || p.Seq > uint64(k) {
			s.res.Foreign++
			return
		}
		at := (i-s.start)*k + int(p.Seq) - 1
		if s.res.Got[at] < 255 {
			s.res.Got[at]++
		}
		if p.Seq < s.last[i-s.start] {
			s.res.Reordered++
		} else {
			s.last[i-s.start] = p.Seq
		}
		s.delivered.Add(1)
		for at := now.UnixNano(); ; {
			if old := f.lastDelivery.Load(); old >= at || f.lastDelivery.CompareAndSwap(old, at) {
				break
			}
		}
		if s.lat = append(s.lat, max(now.Sub(p.Sent).Microseconds(), 1)); len(s.lat) >= latencyBatch {
			f.flushLatency(s)
		}
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if orig, ok := echo.Refused(msg); ok {
		if p, ok := echo.ParsePublish(orig); ok && string(p.From) == s.res.Client.Name && p.Seq >= 1 && p.Seq <= uint64(f.spec.Messages) {
			s.res.Refused[p.Seq-1] = true
			return
		}
	}
	s.res.Other++
}

// reconnect records that s dropped (because of why) and brings it back
// with the same identity: dial, join, send what it could not publish
// while away. It returns nil when the Fanout closes or the client could
// not come back within ReconnectFor.
func (f *Fanout) reconnect(s *subscriber, why error) *websocket.Conn {
	dropped := time.Now()
	s.wmu.Lock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
	s.wmu.Unlock()
	s.mu.Lock()
	s.res.Away = append(s.res.Away, Window{Dropped: dropped, Why: why.Error()})
	w := len(s.res.Away) - 1
	s.mu.Unlock()
	for time.Since(dropped) < f.spec.ReconnectFor {
		if f.closing.Load() || f.ctx.Err() != nil {
			return nil
		}
		conn, backend, err := f.connect(f.ctx, s)
		if err != nil {
			select {
			case <-f.ctx.Done():
				return nil
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		s.mu.Lock()
		s.res.Away[w].Rejoined = time.Now()
		s.res.Backends = append(s.res.Backends, backend)
		s.mu.Unlock()
		s.wmu.Lock()
		s.conn = conn
		pending := s.pending
		s.pending = nil
		for _, m := range pending {
			if err := f.send(s, conn, backend, m); err != nil {
				// The reader notices the broken connection next.
				s.pending = append(s.pending, m)
			}
		}
		s.wmu.Unlock()
		if f.closing.Load() {
			_ = conn.Close()
			return nil
		}
		return conn
	}
	return nil
}

// send writes s's message m on conn (s.wmu held) and records it.
func (f *Fanout) send(s *subscriber, conn *websocket.Conn, backend string, m int) error {
	b := msgPool.Get().(*msgBufs)
	defer msgPool.Put(b)
	now := time.Now()
	b.out = echo.AppendPublish(b.out[:0], s.room, s.res.Client.Name, uint64(m), now)
	_ = conn.SetWriteDeadline(now.Add(f.h.cfg.MessageTimeout))
	if err := conn.WriteMessage(websocket.TextMessage, b.out); err != nil {
		return err
	}
	s.mu.Lock()
	s.res.SentAt[m-1] = now
	s.res.Via[m-1] = backend
	s.mu.Unlock()
	return nil
}

// Publish has every joined client publish its message m (from 1), at most
// Concurrency at a time. A client that is away publishes it when it is
// back, in order.
func (f *Fanout) Publish(ctx context.Context, m int) error {
	if m < 1 || m > f.spec.Messages {
		return fmt.Errorf("harness: message %d of %d", m, f.spec.Messages)
	}
	f.firstPublish.CompareAndSwap(0, time.Now().UnixNano())
	sem := make(chan struct{}, f.h.cfg.Concurrency)
	var wg sync.WaitGroup
	for _, s := range f.subs {
		s.mu.Lock()
		joined := len(s.res.Backends) > 0
		backend := ""
		if joined {
			backend = s.res.Backends[len(s.res.Backends)-1]
		}
		s.mu.Unlock()
		if !joined {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Go(func() {
			defer func() { <-sem }()
			s.wmu.Lock()
			defer s.wmu.Unlock()
			if s.conn == nil || len(s.pending) > 0 || f.send(s, s.conn, backend, m) != nil {
				s.pending = append(s.pending, m)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// Expected is how many deliveries the first m messages of every client
// make: each joined client gets them from every joined client of its room.
func (f *Fanout) Expected(m int) int64 {
	joined := make([]bool, len(f.subs))
	for i, s := range f.subs {
		s.mu.Lock()
		joined[i] = len(s.res.Backends) > 0
		s.mu.Unlock()
	}
	var n int64
	for i, s := range f.subs {
		if !joined[i] {
			continue
		}
		for p := s.start; p < s.start+s.n; p++ {
			if joined[p] {
				n += int64(m)
			}
		}
	}
	return n
}

// Delivered is the deliveries received so far, in all.
func (f *Fanout) Delivered() int64 {
	var n int64
	for _, s := range f.subs {
		n += s.delivered.Load()
	}
	return n
}

// Wait returns once want deliveries arrived, or nothing arrived for quiet
// (after the first quiet period), or after most, or when ctx ends.
func (f *Fanout) Wait(ctx context.Context, want int64, quiet, most time.Duration) {
	start := time.Now()
	lastN, lastChange := int64(-1), start
	for {
		n := f.Delivered()
		if n >= want || time.Since(start) >= most || ctx.Err() != nil {
			return
		}
		if n != lastN {
			lastN, lastChange = n, time.Now()
		} else if time.Since(lastChange) >= quiet {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Result snapshots what every client observed.
func (f *Fanout) Result() *FanoutResult {
	res := &FanoutResult{Messages: f.spec.Messages, Clients: make([]FanoutClient, len(f.subs))}
	for i, s := range f.subs {
		s.mu.Lock()
		f.flushLatency(s)
		c := s.res
		c.Backends = append([]string(nil), c.Backends...)
		c.Away = append([]Window(nil), c.Away...)
		c.Got = append([]uint8(nil), c.Got...)
		c.SentAt = append([]time.Time(nil), c.SentAt...)
		c.Via = append([]string(nil), c.Via...)
		c.Refused = append([]bool(nil), c.Refused...)
		c.FirstAt = make([]time.Time, len(s.firstAt))
		for m := range s.firstAt {
			if at := s.firstAt[m].Load(); at != 0 {
				c.FirstAt[m] = time.Unix(0, at)
			}
		}
		s.mu.Unlock()
		res.Clients[i] = c
	}
	f.histMu.Lock()
	res.Latency = LatencyOf(f.hist)
	f.histMu.Unlock()
	if first, last := f.firstPublish.Load(), f.lastDelivery.Load(); first != 0 && last > first {
		res.Span = time.Duration(last - first)
	}
	return res
}

// Close closes every connection and stops the readers.
func (f *Fanout) Close() {
	f.closing.Store(true)
	f.cancel()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	deadline := time.Now().Add(time.Second)
	for _, s := range f.subs {
		s.wmu.Lock()
		if s.conn != nil {
			_ = s.conn.WriteControl(websocket.CloseMessage, msg, deadline)
			_ = s.conn.Close()
		}
		s.wmu.Unlock()
	}
	f.wg.Wait()
}

// Unrefused is how many joined clients' message m their node has not
// refused, leaving out those still waiting to be sent (a client away):
// what the nodes accepted or have not answered yet. A node confirms
// nothing it accepts, so while the broker is down every publication
// should come back refused.
func (f *Fanout) Unrefused(m int) int {
	if m < 1 || m > f.spec.Messages {
		return 0
	}
	n := 0
	for _, s := range f.subs {
		s.wmu.Lock()
		waiting := slices.Contains(s.pending, m)
		s.wmu.Unlock()
		s.mu.Lock()
		if len(s.res.Backends) > 0 && !s.res.Refused[m-1] && !waiting {
			n++
		}
		s.mu.Unlock()
	}
	return n
}

// WaitRefused waits until every joined client's message m was refused, at
// most for bound, and returns Unrefused(m). Publish returns once the
// messages are written; a busy node may read them later, so a round
// published while the broker is down must be answered before the broker
// comes back, or the node publishes it into the restarted broker before
// the other nodes have subscribed again.
func (f *Fanout) WaitRefused(ctx context.Context, m int, bound time.Duration) int {
	deadline := time.Now().Add(bound)
	for {
		n := f.Unrefused(m)
		if n == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return n
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}
