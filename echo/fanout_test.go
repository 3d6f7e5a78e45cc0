package echo_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
)

func TestFanoutMessagesDecodeAsJSON(t *testing.T) {
	t.Parallel()
	sent := time.Unix(0, 1764540000123456789)
	msg := echo.AppendPublish(nil, "room-1", "client-0001", 3, sent)
	require.Equal(t, `{"publish":"room-1","from":"client-0001","seq":3,"sent":1764540000123456789}`, string(msg), "the documented layout")
	var v map[string]any
	require.NoError(t, json.Unmarshal(msg, &v))
	p, ok := echo.ParsePublish(msg)
	require.True(t, ok)
	require.Equal(t, "room-1", string(p.Room))
	require.Equal(t, "client-0001", string(p.From))
	require.Equal(t, uint64(3), p.Seq)
	require.True(t, p.Sent.Equal(sent))

	join := echo.AppendJoin(nil, "room-1")
	require.Equal(t, `{"join":"room-1"}`, string(join))
	room, ok := echo.JoinRoom(join)
	require.True(t, ok)
	require.Equal(t, "room-1", string(room))

	joined := echo.AppendJoined(nil, []byte("room-1"), "ws2")
	require.NoError(t, json.Unmarshal(joined, &v))
	r, b, ok := echo.JoinedRoom(joined)
	require.True(t, ok)
	require.Equal(t, "room-1", string(r))
	require.Equal(t, "ws2", string(b))

	refused := echo.AppendRefused(nil, msg, `dial tcp: "refused"`+"\n")
	require.NoError(t, json.Unmarshal(refused, &v), "%s", refused)
	require.Equal(t, `dial tcp: "refused"`+"\n", v["error"])
	got, ok := echo.Refused(refused)
	require.True(t, ok)
	require.Equal(t, string(msg), string(got))
}

func TestFanoutMessagesRejectGarbage(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		``, `{"join":""}`, `{"join":"a b"}`, `{"join":"a"} `, `{"join":"a","x":1}`, `{"join":"a`,
		`{"join":"` + string(make([]byte, 129)) + `"}`,
	} {
		_, ok := echo.JoinRoom([]byte(bad))
		require.False(t, ok, "%q", bad)
	}
	for _, bad := range []string{
		`{"publish":"r","from":"","seq":1,"sent":1}`, `{"publish":"r","from":"a","seq":,"sent":1}`,
		`{"publish":"r","from":"a","seq":1,"sent":1`, `{"publish":"r","from":"a","seq":1,"sent":99999999999999999999}`,
		`{"publish":"r","from":"a","seq":1,"sent":1}x`, `{"publish":"r/","from":"a","seq":1,"sent":1}`,
	} {
		_, ok := echo.ParsePublish([]byte(bad))
		require.False(t, ok, "%q", bad)
	}
	// A node only needs the room: the rest is the publisher's.
	room, ok := echo.PublishRoom([]byte(`{"publish":"r1","anything":["else"]}`))
	require.True(t, ok)
	require.Equal(t, "r1", string(room))
}

func TestFanoutHotPathAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 256)
	now := time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		buf = echo.AppendPublish(buf[:0], "room-7", "client-0001", 42, now)
		p, ok := echo.ParsePublish(buf)
		if !ok || p.Seq != 42 {
			t.Fatal("round trip failed")
		}
	})
	require.Zero(t, allocs)
}

func FuzzFanoutMessages(f *testing.F) {
	f.Add([]byte(`{"publish":"room-1","from":"client-0001","seq":3,"sent":1764540000123456789}`))
	f.Add([]byte(`{"join":"room-1"}`))
	f.Add([]byte(`{"joined":"room-1","backend":"ws1"}`))
	f.Add([]byte(`{"refused":{"publish":"r"},"error":"x"}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if p, ok := echo.ParsePublish(msg); ok {
			again := echo.AppendPublish(nil, string(p.Room), string(p.From), p.Seq, p.Sent)
			if p2, ok := echo.ParsePublish(again); !ok || p2.Seq != p.Seq || !p2.Sent.Equal(p.Sent) {
				t.Fatalf("%q does not survive a round trip", msg)
			}
		}
		if room, ok := echo.JoinRoom(msg); ok && !echo.ValidRoom(room) {
			t.Fatalf("invalid room %q accepted", room)
		}
		echo.JoinedRoom(msg)
		echo.Refused(msg)
	})
}

// memBus is a broker in memory: every node subscribed gets every
// publication; failing makes Publish refuse.
type memBus struct {
	mu      sync.Mutex
	nodes   []*echo.Server
	failing error
}

func (b *memBus) Publish(_ context.Context, room string, payload []byte) error {
	b.mu.Lock()
	nodes, err := append([]*echo.Server(nil), b.nodes...), b.failing
	b.mu.Unlock()
	if err != nil {
		return err
	}
	for _, n := range nodes {
		n.Deliver(room, payload)
	}
	return nil
}

func startNode(t *testing.T, id string, bus *memBus) string {
	t.Helper()
	cfg := echo.Config{ID: id}
	if bus != nil {
		cfg.Bus = bus
	}
	srv, err := echo.New(cfg)
	require.NoError(t, err)
	if bus != nil {
		bus.mu.Lock()
		bus.nodes = append(bus.nodes, srv)
		bus.mu.Unlock()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func joinRoom(t *testing.T, c *websocket.Conn, room, backend string) {
	t.Helper()
	require.NoError(t, c.WriteMessage(websocket.TextMessage, echo.AppendJoin(nil, room)))
	_, msg, err := c.ReadMessage()
	require.NoError(t, err)
	r, b, ok := echo.JoinedRoom(msg)
	require.True(t, ok, "%s", msg)
	require.Equal(t, room, string(r))
	require.Equal(t, backend, string(b))
}

// dialJoined dials a path whose query joins rooms, and waits for an echo:
// the handshake's rooms are joined just after the 101 goes out, before
// the connection's first message is read, so the answer proves the joins.
func dialJoined(t *testing.T, addr, path string) *websocket.Conn {
	t.Helper()
	c, _ := dial(t, addr, path)
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("joined?")))
	_, err := readWithin(t, c, 5*time.Second)
	require.NoError(t, err)
	return c
}

func readWithin(t *testing.T, c *websocket.Conn, d time.Duration) ([]byte, error) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(d)))
	_, msg, err := c.ReadMessage()
	return msg, err
}

func TestPublishReachesTheRoomOnEveryNode(t *testing.T) {
	t.Parallel()
	bus := &memBus{}
	a, b := startNode(t, "n1", bus), startNode(t, "n2", bus)
	pub, _ := dial(t, a, "/")
	onA, _ := dial(t, a, "/")
	onB := dialJoined(t, b, "/?room=r1") // joined with the handshake
	other, _ := dial(t, b, "/")
	joinRoom(t, pub, "r1", "n1")
	joinRoom(t, onA, "r1", "n1")
	joinRoom(t, other, "r2", "n2")

	msg := echo.AppendPublish(nil, "r1", "pub", 1, time.Now())
	require.NoError(t, pub.WriteMessage(websocket.TextMessage, msg))
	for _, c := range []*websocket.Conn{pub, onA, onB} {
		got, err := readWithin(t, c, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, string(msg), string(got), "delivered byte for byte")
	}
	_, err := readWithin(t, other, 200*time.Millisecond)
	require.Error(t, err, "a client of another room gets nothing")

	// Echo still works on a member's connection.
	require.NoError(t, onA.WriteMessage(websocket.TextMessage, []byte("hi")))
	got, err := readWithin(t, onA, 5*time.Second)
	require.NoError(t, err)
	env, err := echo.ParseEnvelope(got)
	require.NoError(t, err)
	require.True(t, env.EchoIs([]byte("hi")))
}

func TestPublishWithoutBusStaysOnTheNode(t *testing.T) {
	t.Parallel()
	a, b := startNode(t, "solo1", nil), startNode(t, "solo2", nil)
	pub := dialJoined(t, a, "/?room=r")
	local := dialJoined(t, a, "/?room=r")
	remote := dialJoined(t, b, "/?room=r")
	msg := echo.AppendPublish(nil, "r", "pub", 1, time.Now())
	require.NoError(t, pub.WriteMessage(websocket.TextMessage, msg))
	for _, c := range []*websocket.Conn{pub, local} {
		got, err := readWithin(t, c, 5*time.Second)
		require.NoError(t, err)
		require.Equal(t, string(msg), string(got))
	}
	_, err := readWithin(t, remote, 200*time.Millisecond)
	require.Error(t, err, "no bus: another node's clients get nothing")
}

func TestPublishRefusedByTheBusIsAnswered(t *testing.T) {
	t.Parallel()
	bus := &memBus{failing: errors.New("broker down")}
	a := startNode(t, "n1", bus)
	pub, _ := dial(t, a, "/?room=r")
	msg := echo.AppendPublish(nil, "r", "pub", 1, time.Now())
	require.NoError(t, pub.WriteMessage(websocket.TextMessage, msg))
	got, err := readWithin(t, pub, 5*time.Second)
	require.NoError(t, err)
	orig, ok := echo.Refused(got)
	require.True(t, ok, "%s", got)
	require.Equal(t, string(msg), string(orig))
	require.Contains(t, string(got), "broker down")
}

func TestHandshakeWithAnInvalidRoomIsRefused(t *testing.T) {
	t.Parallel()
	a := startNode(t, "n1", nil)
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+a+"/?room=a%20b", nil)
	require.Error(t, err)
	require.Equal(t, 400, resp.StatusCode)
}
