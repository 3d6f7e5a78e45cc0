package harness

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wslb/wslb/harness/socketio/siotest"
)

func sioHarness(t *testing.T, concurrency int, nodes ...string) *Harness {
	t.Helper()
	f := &siotest.Front{}
	for _, id := range nodes {
		f.Nodes = append(f.Nodes, siotest.NewNode(id))
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	h, err := New(Config{
		URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io", Client: ClientSocketIO,
		Clients: 3, Reconnects: 1, Messages: 2, BackendHeader: "X-Wslb-Server", Concurrency: concurrency,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSocketIOSessions(t *testing.T) {
	res, err := sioHarness(t, 3, "io1").Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Clients {
		if len(c.Conns) != 2 || !c.Sticky() || c.First() != "io1" {
			t.Fatalf("%s: %+v", c.Client, c.Conns)
		}
		for _, conn := range c.Conns {
			if conn.Err != "" || conn.Emitted != 2 || conn.Sent != 0 || len(conn.Requests) != 5 {
				t.Errorf("%s: %+v", c.Client, conn)
			}
		}
	}
	if res.HandshakeErrors+res.MessageErrors+res.SessionUnknown != 0 || res.Backends["io1"] != 6 {
		t.Errorf("result %+v", res)
	}
}

// Requests spread over two servers in turn, as a proxy without affinity
// does: every session fails at its second request, naming both servers.
// One client at a time, so that the turns are each session's own.
func TestSocketIOSplitSessions(t *testing.T) {
	res, err := sioHarness(t, 1, "io1", "io2").Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.HandshakeErrors != 6 || res.SessionUnknown != 6 {
		t.Fatalf("handshake errors %d, unknown %d, want 6 and 6", res.HandshakeErrors, res.SessionUnknown)
	}
	for _, c := range res.Clients {
		for _, conn := range c.Conns {
			if !strings.HasSuffix(conn.Err, ": polling request 2 reached io2, session opened on io1: 400 Session ID unknown") || conn.Backend != "" {
				t.Errorf("%s: %+v", c.Client, conn)
			}
		}
	}
}
