package socketio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wslb/wslb/harness/socketio"
	"github.com/wslb/wslb/harness/socketio/siotest"
)

func testConfig(t *testing.T, srv *httptest.Server, onEvent func(string, [][]byte)) socketio.Config {
	t.Helper()
	u, err := url.Parse(srv.URL + "/socket.io/")
	if err != nil {
		t.Fatal(err)
	}
	return socketio.Config{
		URL:            u,
		HTTP:           &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
		Dialer:         &websocket.Dialer{},
		BackendHeaders: []string{"X-Wslb-Server"},
		Timeout:        5 * time.Second,
		OnEvent:        onEvent,
	}
}

func TestSessionOneNode(t *testing.T) {
	node := siotest.NewNode("io1")
	srv := httptest.NewServer(&siotest.Front{Nodes: []*siotest.Node{node}})
	defer srv.Close()
	got := make(chan string, 4)
	s, err := socketio.Open(context.Background(), testConfig(t, srv, func(name string, args [][]byte) {
		got <- name + " " + string(args[0])
	}), 2)
	if err != nil {
		t.Fatalf("Open: %v (requests %+v)", err, s.Requests)
	}
	defer s.Close()
	if s.Opened != "io1" || s.Handshake.PingInterval != 300 {
		t.Fatalf("opened on %q, handshake %+v", s.Opened, s.Handshake)
	}
	kinds := []string{}
	for _, r := range s.Requests {
		kinds = append(kinds, r.Kind)
		if r.Backend != "io1" || r.Err != "" {
			t.Errorf("request %+v", r)
		}
	}
	if strings.Join(kinds, ",") != "open,post,poll,post,post,upgrade" {
		t.Errorf("requests %v", kinds)
	}
	select {
	case ev := <-got:
		if ev != `hello "from io1"` {
			t.Errorf("event %q", ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event after the upgrade")
	}
	if ev := <-node.Events; ev != "pong" {
		t.Errorf("the server's ping got %q, want a pong", ev)
	}
	if err := s.Emit("broadcast", "m1"); err != nil {
		t.Fatal(err)
	}
	if ev := <-node.Events; ev != `42["broadcast","m1"]` {
		t.Errorf("server got %q", ev)
	}
}

func TestSessionSplitAcrossNodes(t *testing.T) {
	srv := httptest.NewServer(&siotest.Front{Nodes: []*siotest.Node{siotest.NewNode("io1"), siotest.NewNode("io2")}})
	defer srv.Close()
	s, err := socketio.Open(context.Background(), testConfig(t, srv, nil), 0)
	if err == nil {
		s.Close()
		t.Fatal("a session spread over two nodes opened")
	}
	want := "polling request 2 reached io2, session opened on io1: 400 Session ID unknown"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	last := s.Requests[len(s.Requests)-1]
	if !last.Unknown() || last.Backend != "io2" || last.Status != 400 {
		t.Errorf("last request %+v", last)
	}
	s.Close() // a failed session closes without blocking
}

// A server that only polls (transports: ["polling"]) is reported as such,
// not as a failed WebSocket handshake.
func TestSessionNoUpgradeOffered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Wslb-Server", "io1")
		io.WriteString(w, `0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	}))
	defer srv.Close()
	s, err := socketio.Open(context.Background(), testConfig(t, srv, nil), 0)
	if err == nil || err.Error() != `handshake request 1: server offers no WebSocket upgrade (upgrades [])` {
		t.Fatalf("err = %v", err)
	}
	if len(s.Requests) != 1 {
		t.Errorf("requests %+v", s.Requests)
	}
}
