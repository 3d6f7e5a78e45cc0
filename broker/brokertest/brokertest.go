// Package brokertest is the conformance suite every broker kind passes
// against a real broker that internal/brokerproc starts: round trips,
// rooms and channels kept apart, publishers' order, and a broker restart
// that is survived and reported.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/brokerproc"
)

// Server starts a broker of kind for t, skipping the test when it is not
// installed, and checks at cleanup (which runs on failure too) that
// nothing is left: no process answering on its address, no directory.
func Server(t testing.TB, kind broker.Kind) brokerproc.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, err := brokerproc.Start(ctx, kind, t.TempDir())
	if errors.Is(err, brokerproc.ErrMissing) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		RequireGone(t, s)
	})
	return s
}

// RequireGone fails t when anything of the closed s is left: a listener
// on its address or its directory.
func RequireGone(t testing.TB, s brokerproc.Server) {
	t.Helper()
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("%s: something still accepts on %s after Close", s.Kind(), s.Addr())
	}
	if d, ok := s.(interface{ Dir() string }); ok {
		if _, err := os.Stat(d.Dir()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %s is left after Close (%v)", s.Kind(), d.Dir(), err)
		}
	}
}

// Recorder is a Handler that keeps what it got and the states reported.
type Recorder struct {
	mu     sync.Mutex
	got    map[string][]string // room → payloads in arrival order
	states []broker.State
	notify chan struct{}
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{got: map[string][]string{}, notify: make(chan struct{}, 1)}
}

// Handle records one message.
func (r *Recorder) Handle(room string, payload []byte) {
	r.mu.Lock()
	r.got[room] = append(r.got[room], string(payload))
	r.mu.Unlock()
	r.poke()
}

// OnState records a state change.
func (r *Recorder) OnState(s broker.State, _ error) {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.mu.Unlock()
	r.poke()
}

func (r *Recorder) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Room returns the payloads of room so far.
func (r *Recorder) Room(room string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got[room]...)
}

// States returns the states reported so far.
func (r *Recorder) States() []broker.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]broker.State(nil), r.states...)
}

// WaitFor waits until cond holds, up to d.
func (r *Recorder) WaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.After(d)
	for !cond() {
		select {
		case <-r.notify:
		case <-deadline:
			return cond()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return true
}

// Node dials the broker as node name on channel, subscribed with a fresh
// Recorder, closed at cleanup.
func Node(t testing.TB, kind broker.Kind, url, channel, name string) (broker.Conn, *Recorder) {
	t.Helper()
	rec := NewRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := broker.Dial(ctx, broker.Config{Kind: kind, URL: url, Channel: channel, Node: name, OnState: rec.OnState})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	if err := c.Subscribe(ctx, rec.Handle); err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func publish(t testing.TB, c broker.Conn, room, prefix string, n int) []string {
	t.Helper()
	var sent []string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range n {
		msg := fmt.Sprintf("%s-%d", prefix, i)
		if err := c.Publish(ctx, room, []byte(msg)); err != nil {
			t.Fatalf("publish %s to %s: %v", msg, room, err)
		}
		sent = append(sent, msg)
	}
	return sent
}

// byPrefix keeps the messages of one publisher.
func byPrefix(msgs []string, prefix string) []string {
	var out []string
	for _, m := range msgs {
		if len(m) > len(prefix) && m[:len(prefix)+1] == prefix+"-" {
			out = append(out, m)
		}
	}
	return out
}

// Run is the conformance suite: kind's package registers it, s is a
// running broker of that kind (Server).
func Run(t *testing.T, s brokerproc.Server) {
	kind, url := s.Kind(), s.URL()
	const n = 200
	wait := 30 * time.Second

	t.Run("RoundTripRoomsApart", func(t *testing.T) {
		a, ra := Node(t, kind, url, "rt", "a")
		b, rb := Node(t, kind, url, "rt", "b")
		other, ro := Node(t, kind, url, "rt-other", "c")
		sentA := publish(t, a, "lobby", "a", n)
		sentB := publish(t, b, "lobby", "b", n)
		sentX := publish(t, a, "room:2", "x", n/2)
		publish(t, other, "lobby", "o", 3)
		for name, r := range map[string]*Recorder{"a": ra, "b": rb} {
			if !r.WaitFor(wait, func() bool { return len(r.Room("lobby")) >= 2*n && len(r.Room("room:2")) >= n/2 }) {
				t.Fatalf("node %s got %d of %d lobby and %d of %d room:2 messages", name, len(r.Room("lobby")), 2*n, len(r.Room("room:2")), n/2)
			}
			lobby := r.Room("lobby")
			for p, sent := range map[string][]string{"a": sentA, "b": sentB} {
				if got := byPrefix(lobby, p); !slices.Equal(got, sent) {
					t.Errorf("node %s: publisher %s's lobby messages arrived as %.200v, want %d in order", name, p, got, len(sent))
				}
			}
			if len(byPrefix(lobby, "o")) != 0 || len(byPrefix(lobby, "x")) != 0 {
				t.Errorf("node %s: lobby got messages of another channel or room", name)
			}
			if got := r.Room("room:2"); !slices.Equal(got, sentX) {
				t.Errorf("node %s: room:2 got %.200v", name, got)
			}
		}
		if !ro.WaitFor(wait, func() bool { return len(ro.Room("lobby")) >= 3 }) {
			t.Fatalf("the node on channel rt-other got %d of its own 3 messages", len(ro.Room("lobby")))
		}
		time.Sleep(200 * time.Millisecond) // a late stray would show now
		if got := ro.Room("lobby"); len(got) != 3 || len(ro.Room("room:2")) != 0 {
			t.Errorf("the node on channel rt-other got %d lobby and %d room:2 messages, want only its own 3", len(got), len(ro.Room("room:2")))
		}
	})

	t.Run("BadRoom", func(t *testing.T) {
		a, _ := Node(t, kind, url, "bad", "a")
		for _, room := range []string{"", "a.b", "a b", "x*", "a\nb", string(make([]byte, broker.MaxRoom+1))} {
			if err := a.Publish(context.Background(), room, []byte("x")); err == nil {
				t.Errorf("Publish to room %q succeeded", room)
			}
		}
	})

	t.Run("Restart", func(t *testing.T) {
		a, ra := Node(t, kind, url, "restart", "a")
		b, rb := Node(t, kind, url, "restart", "b")
		publish(t, a, "r", "before", 5)
		if !rb.WaitFor(wait, func() bool { return len(rb.Room("r")) == 5 }) {
			t.Fatalf("before the restart b got %d of 5", len(rb.Room("r")))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if err := brokerproc.Restart(ctx, s); err != nil {
			t.Fatal(err)
		}
		for name, r := range map[string]*Recorder{"a": ra, "b": rb} {
			if !r.WaitFor(2*time.Minute, func() bool { st := r.States(); return len(st) >= 2 && st[len(st)-1] == broker.Up }) {
				t.Fatalf("node %s reported %v after the restart, want down then up", name, r.States())
			}
			if st := r.States(); st[0] != broker.Down {
				t.Errorf("node %s reported %v, want down first", name, st)
			}
		}
		// Both reconnected and subscribed again: messages flow again.
		sent := publish(t, b, "r", "after", 5)
		for name, r := range map[string]*Recorder{"a": ra, "b": rb} {
			if !r.WaitFor(wait, func() bool { return len(byPrefix(r.Room("r"), "after")) == 5 }) {
				t.Fatalf("after the restart node %s got %v, want %v", name, byPrefix(r.Room("r"), "after"), sent)
			}
		}
	})
}
