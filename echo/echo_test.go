package echo_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
)

// serve runs a backend on a free loopback port and returns its address
// and, once Serve returns, its result. Stopping it is up to the test.
func serve(tb testing.TB, id string) (*echo.Server, string, <-chan error) {
	tb.Helper()
	srv, err := echo.New(echo.Config{ID: id})
	require.NoError(tb, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return srv, ln.Addr().String(), served
}

// startServer serves a backend on a free loopback port and returns its
// address; the backend is closed when the test ends.
func startServer(t *testing.T, id string) (*echo.Server, string) {
	t.Helper()
	srv, addr, served := serve(t, id)
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.NoError(t, <-served)
	})
	return srv, addr
}

func dial(t *testing.T, addr, path string) (*websocket.Conn, *http.Response) {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c, resp
}

// recordingConn keeps what is read from it once record is set.
type recordingConn struct {
	net.Conn
	mu     sync.Mutex
	record bool
	got    []byte
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	if c.record {
		c.got = append(c.got, p[:n]...)
	}
	c.mu.Unlock()
	return n, err
}

// A reply longer than the connection's small read and write buffers comes
// back whole, in one frame (FIN set on the first): gorilla writes what does
// not fit in the write buffer along with it.
func TestLongMessagesEchoInOneFrame(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, "ws1")
	var rc *recordingConn
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		rc = &recordingConn{Conn: c}
		return rc, nil
	}}
	c, _, err := d.Dial("ws://"+addr+"/", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	for _, n := range []int{100, 127, 128, 129, 255, 256, 257, 1000, 20000} {
		msg := strings.Repeat("y", n)
		rc.mu.Lock()
		rc.record, rc.got = true, nil
		rc.mu.Unlock()
		require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(msg)))
		_, data, err := c.ReadMessage()
		require.NoError(t, err)
		v, err := echo.ParseEnvelope(data)
		require.NoError(t, err)
		require.True(t, v.EchoIs([]byte(msg)), "%d bytes", n)
		rc.mu.Lock()
		require.Equal(t, byte(0x81), rc.got[0], "%d bytes: first frame is final and text", n)
		rc.mu.Unlock()
	}
}

func TestNewRejectsBadIDs(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "a b", "ws1\nX-Evil: 1", strings.Repeat("a", 129), "ws/1"} {
		_, err := echo.New(echo.Config{ID: id})
		require.Error(t, err, "id %q", id)
		require.Contains(t, err.Error(), "invalid backend id")
	}
	for _, id := range []string{"ws1", "app-2.eu_west:8080", strings.Repeat("a", 128)} {
		_, err := echo.New(echo.Config{ID: id})
		require.NoError(t, err, "id %q", id)
	}
}

func TestEchoEnvelopeAndHandshakeHeader(t *testing.T) {
	t.Parallel()
	srv, addr := startServer(t, "ws1")
	c, resp := dial(t, addr, "/chat?x=1")
	require.Equal(t, "ws1", resp.Header.Get(echo.HeaderBackendID))

	for i, msg := range []string{"hello", `{"quoted":"json"}`, ""} {
		require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte(msg)))
		typ, data, err := c.ReadMessage()
		require.NoError(t, err)
		require.Equal(t, websocket.TextMessage, typ)
		var env echo.Envelope
		require.NoError(t, json.Unmarshal(data, &env))
		require.Equal(t, "ws1", env.Backend)
		require.Equal(t, uint64(1), env.Conn)
		require.Equal(t, uint64(i+1), env.Seq)
		require.Equal(t, msg, env.Echo)
		require.WithinDuration(t, time.Now(), time.Unix(0, env.Time), time.Minute)
	}

	// Binary messages come back binary; a second connection gets the next
	// connection number.
	c2, _ := dial(t, addr, "/")
	require.NoError(t, c2.WriteMessage(websocket.BinaryMessage, []byte("bin")))
	typ, data, err := c2.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.BinaryMessage, typ)
	var env echo.Envelope
	require.NoError(t, json.Unmarshal(data, &env))
	require.Equal(t, uint64(2), env.Conn)
	require.Equal(t, "bin", env.Echo)

	st := srv.Stats()
	require.Equal(t, 2, st.Open)
	require.Equal(t, uint64(2), st.Total)
	require.Equal(t, uint64(4), st.Messages)

	// The counters over HTTP, for a driver whose servers run apart.
	require.NoError(t, c2.Close())
	require.Eventually(t, func() bool { return srv.Stats().Open == 1 }, 5*time.Second, 10*time.Millisecond)
	resp, err = http.Get("http://" + addr + echo.StatsPath)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, `{"backend":"ws1","open":1,"accepted":2}`+"\n", string(body))
}

func TestPlainHTTP(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, "api-3")
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{path: "/healthz", wantStatus: http.StatusOK, wantBody: "ok\n"},
		{path: "/", wantStatus: http.StatusOK, wantBody: `{"backend":"api-3","method":"GET","path":"/"}` + "\n"},
		{path: "/socket.io/?EIO=4", wantStatus: http.StatusOK, wantBody: `{"backend":"api-3","method":"GET","path":"/socket.io/"}` + "\n"},
	}
	for _, tt := range tests {
		resp, err := http.Get("http://" + addr + tt.path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, tt.wantStatus, resp.StatusCode, tt.path)
		require.Equal(t, "api-3", resp.Header.Get(echo.HeaderBackendID), tt.path)
		require.Equal(t, tt.wantBody, string(body), tt.path)
	}
}

func TestPingIsAnswered(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, "ws1")
	c, _ := dial(t, addr, "/")
	pong := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pong <- data; return nil })
	require.NoError(t, c.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(time.Second)))
	// The pong is processed while reading the echo of the next message.
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("after-ping")))
	_, _, err := c.ReadMessage()
	require.NoError(t, err)
	select {
	case got := <-pong:
		require.Equal(t, "p1", got)
	default:
		t.Fatal("no pong before the echo")
	}
}

func TestShutdownClosesWithGoingAway(t *testing.T) {
	t.Parallel()
	srv, addr, served := serve(t, "ws2")

	const n = 5
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i], _ = dial(t, addr, "/")
	}
	require.Eventually(t, func() bool { return srv.Stats().Open == n }, 5*time.Second, 10*time.Millisecond)

	// Clients read (and so answer the close frame) while the server shuts down.
	codes := make(chan int, n)
	for _, c := range conns {
		go func() {
			_, _, err := c.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				codes <- ce.Code
				return
			}
			codes <- -1
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	for range n {
		require.Equal(t, websocket.CloseGoingAway, <-codes)
	}
	require.Equal(t, 0, srv.Stats().Open)
	require.NoError(t, <-served)

	// The listener is gone.
	_, err := net.DialTimeout("tcp", addr, time.Second)
	require.Error(t, err)
}

func TestHealthIs503WhileShuttingDown(t *testing.T) {
	t.Parallel()
	// A client that never answers the close frame keeps Shutdown waiting.
	srv, addr, _ := serve(t, "ws1")
	hs := &http.Server{Handler: srv}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = hs.Serve(ln2) }()
	t.Cleanup(func() { _ = hs.Close() })

	dial(t, addr, "/") // never reads
	require.Eventually(t, func() bool { return srv.Stats().Open == 1 }, 5*time.Second, 10*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()

	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + ln2.Addr().String() + "/healthz")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 5*time.Second, 10*time.Millisecond)

	// The silent client is dropped when the context ends.
	require.ErrorIs(t, <-done, context.DeadlineExceeded)
	require.Equal(t, 0, srv.Stats().Open)
}

func TestCloseDropsWithoutCloseFrame(t *testing.T) {
	t.Parallel()
	srv, addr, _ := serve(t, "ws1")
	c, _ := dial(t, addr, "/")
	require.Eventually(t, func() bool { return srv.Stats().Open == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, srv.Close())
	_, _, err := c.ReadMessage()
	require.Error(t, err)
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		require.Equal(t, websocket.CloseAbnormalClosure, ce.Code, "no close frame expected")
	}
}

func TestServeAfterShutdownReturnsAtOnce(t *testing.T) {
	t.Parallel()
	srv, err := echo.New(echo.Config{ID: "ws1"})
	require.NoError(t, err)
	require.NoError(t, srv.Shutdown(context.Background()))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, srv.Serve(ln))
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "listener must be closed")
}

// gatedListener holds the first write on each accepted connection (the
// 101 response) until release is closed, keeping a handshake in flight.
type gatedListener struct {
	net.Listener
	writing chan struct{} // closed when a write is waiting at the gate
	release chan struct{}
	once    sync.Once
}

type gatedConn struct {
	net.Conn
	l    *gatedListener
	done bool
}

func (l *gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, l: l}, nil
}

func (c *gatedConn) Write(b []byte) (int, error) {
	if !c.done {
		c.done = true
		c.l.once.Do(func() { close(c.l.writing) })
		<-c.l.release
	}
	return c.Conn.Write(b)
}

// Shutdown does not return while a handshake is in flight: the client may
// already hold the 101, and a process that exits once Shutdown returns
// would cut it without the close frame (1006 instead of 1001).
func TestShutdownWaitsForHandshakesInFlight(t *testing.T) {
	t.Parallel()
	srv, err := echo.New(echo.Config{ID: "gate"})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gl := &gatedListener{Listener: ln, writing: make(chan struct{}), release: make(chan struct{})}
	go func() { _ = srv.Serve(gl) }()

	got := make(chan error, 1)
	go func() {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/", nil)
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		_, _, err = c.ReadMessage() // answers the close frame
		got <- err
	}()
	<-gl.writing // the handshake is in flight

	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdown <- srv.Shutdown(ctx)
	}()
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) while a handshake was in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(gl.release)
	require.NoError(t, <-shutdown)
	err = <-got
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, websocket.CloseGoingAway, ce.Code)
}
