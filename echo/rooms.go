package echo

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Bus carries publications between nodes: a message broker every node
// subscribes to. A node hands every publish message to Publish and gets
// every publication of every node, its own included, back through
// Server.Deliver.
type Bus interface {
	// Publish sends payload to every node subscribed to room's
	// publications. It must not keep payload after it returns.
	Publish(ctx context.Context, room string, payload []byte) error
}

// member is one WebSocket connection as the rooms see it. Its writes are
// serialized: the reader's replies and deliveries from the bus.
type member struct {
	c        *websocket.Conn
	mu       sync.Mutex
	deadline time.Time   // the write deadline set last
	rooms    []*room     // joined; only the reader touches it
	broken   atomic.Bool // a write failed: the connection is being dropped
}

// room is the members of one room on this node, replaced on every change
// (copy on write), so that delivery reads it without a lock.
type room struct {
	name    string
	members atomic.Pointer[[]*member]
}

// write sends one message to m, moving the write deadline only when half
// of timeout is used up (each move costs a runtime timer update).
func (m *member) write(typ int, data []byte, timeout time.Duration) error {
	return m.writeAt(typ, data, timeout, time.Now())
}

// writeAt is write with the clock already read at now.
func (m *member) writeAt(typ int, data []byte, timeout time.Duration, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.deadline.Sub(now) < timeout/2 {
		m.deadline = now.Add(timeout)
		_ = m.c.SetWriteDeadline(m.deadline)
	}
	return m.c.WriteMessage(typ, data)
}

// join adds m to the room named name (kept as the room's own string, so a
// lookup by bytes allocates nothing).
func (s *Server) join(m *member, name []byte) {
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	r := s.rooms[string(name)]
	if r == nil {
		r = &room{name: string(name)}
		r.members.Store(&[]*member{})
		s.rooms[r.name] = r
	}
	if slices.Contains(m.rooms, r) {
		return
	}
	old := *r.members.Load()
	next := make([]*member, len(old), len(old)+1)
	copy(next, old)
	next = append(next, m)
	r.members.Store(&next)
	m.rooms = append(m.rooms, r)
}

// leaveAll removes m from every room it joined; an empty room is dropped.
func (s *Server) leaveAll(m *member) {
	if len(m.rooms) == 0 {
		return
	}
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	for _, r := range m.rooms {
		old := *r.members.Load()
		next := make([]*member, 0, len(old))
		for _, o := range old {
			if o != m {
				next = append(next, o)
			}
		}
		r.members.Store(&next)
		if len(next) == 0 && s.rooms[r.name] == r {
			delete(s.rooms, r.name)
		}
	}
	m.rooms = nil
}

// roomName is the name of the room called name, as a string: this node's
// own copy when it has members here, else a new one.
func (s *Server) roomName(name []byte) string {
	s.roomsMu.RLock()
	r := s.rooms[string(name)]
	s.roomsMu.RUnlock()
	if r != nil {
		return r.name
	}
	return string(name)
}

// Deliver sends payload, a publication of room, to every client of this
// node in that room. The Bus's subscription calls it for every publication
// of every node. A client that cannot take it within the write timeout is
// dropped (it reconnects and joins again); the others still get it.
func (s *Server) Deliver(room string, payload []byte) {
	s.roomsMu.RLock()
	r := s.rooms[room]
	s.roomsMu.RUnlock()
	if r == nil {
		return
	}
	for _, m := range *r.members.Load() {
		if m.broken.Load() {
			continue
		}
		if err := m.write(websocket.TextMessage, payload, s.cfg.WriteTimeout); err != nil {
			m.broken.Store(true)
			s.log.Debug("delivery failed, dropping the client", "room", room, "err", err)
			_ = m.c.NetConn().Close()
			continue
		}
		s.delivered.Add(1)
	}
}

// publish hands a publish message to the bus, or without one delivers it
// to this node's clients of the room. A publication the bus refused is
// answered with a "refused" message naming why.
func (s *Server) publish(m *member, typ int, room, msg []byte, b *replyBufs) error {
	s.published.Add(1)
	if s.cfg.Bus == nil {
		s.Deliver(s.roomName(room), msg)
		return nil
	}
	err := s.cfg.Bus.Publish(s.ctx, s.roomName(room), msg)
	if err == nil {
		return nil
	}
	s.refused.Add(1)
	s.log.Debug("publish refused", "room", string(room), "err", err)
	b.out = AppendRefused(b.out[:0], msg, err.Error())
	return m.write(typ, b.out, s.cfg.WriteTimeout)
}
