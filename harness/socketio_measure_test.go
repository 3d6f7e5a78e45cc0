package harness_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/harness/socketio"
	"github.com/wslb/wslb/harness/socketio/siotest"
	"github.com/wslb/wslb/internal/memstat"
	"github.com/wslb/wslb/internal/testutil"
)

const sioHelperEnv = "WSLB_HELPER_SOCKETIO"

// TestHelperSocketIO is not a test: the Socket.IO measurements run the
// test binary as a child serving a minimal Socket.IO server, so that its
// memory does not count against the harness's.
func TestHelperSocketIO(t *testing.T) {
	if os.Getenv(sioHelperEnv) == "" {
		t.Skip("helper process for the Socket.IO measurements")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = http.Serve(ln, &siotest.Front{Nodes: []*siotest.Node{siotest.NewNode("io1")}}) }()
	fmt.Println(ln.Addr().String())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	os.Exit(0)
}

func startSocketIOProcess(tb testing.TB) string {
	tb.Helper()
	out, _ := testutil.StartHelper(tb, "TestHelperSocketIO", sioHelperEnv+"=1")
	line, err := out.ReadString('\n')
	require.NoError(tb, err)
	return strings.TrimSpace(line)
}

// BenchmarkSocketIOSessionMemory reports the harness's memory per open
// Socket.IO session (upgraded, its reader answering pings), held against
// a server in a child process.
//
//	go test ./harness -run '^$' -bench SocketIOSessionMemory
func BenchmarkSocketIOSessionMemory(b *testing.B) {
	var per memstat.PerItem
	testutil.BenchOnce(b, func() {
		addr := startSocketIOProcess(b)
		n := memstat.Conns(b) / 2
		h, err := harness.New(harness.Config{URL: "ws://" + addr + "/socket.io/", Client: harness.ClientSocketIO, Mode: harness.ModeSource, Clients: n + 4, BackendHeader: "X-Wslb-Server"})
		require.NoError(b, err)
		// Warm up: transports, dialer, pools.
		for i := range 4 {
			s, err := h.OpenSocketIO(context.Background(), n+i, nil)
			require.NoError(b, err)
			s.Close()
		}
		before := memstat.Take()
		sessions := make([]*socketio.Session, n)
		for i := range n {
			s, err := h.OpenSocketIO(context.Background(), i, nil)
			require.NoError(b, err)
			sessions[i] = s
		}
		per = memstat.Per(before, memstat.Take(), n)
		for _, s := range sessions {
			s.Close()
		}
	})
	b.ReportMetric(per.HeapStack, "heap+stack-B/session")
	b.ReportMetric(per.RSS, "rss-B/session")
}

// BenchmarkSocketIOSessions measures Socket.IO sessions straight to a
// server in another process: per op, one session — polling handshake,
// CONNECT, a polling message, the upgrade with its probe, one event and
// the close (six requests and a WebSocket).
//
//	go test ./harness -run '^$' -bench 'SocketIOSessions$' -benchtime 1000x
func BenchmarkSocketIOSessions(b *testing.B) {
	addr := startSocketIOProcess(b)
	h, err := harness.New(harness.Config{URL: "ws://" + addr + "/socket.io/", Client: harness.ClientSocketIO, Mode: harness.ModeSource, Clients: b.N, Messages: 1, Concurrency: 16, BackendHeader: "X-Wslb-Server"})
	require.NoError(b, err)
	b.ResetTimer()
	res, err := h.Run(context.Background())
	require.NoError(b, err)
	require.Zero(b, res.HandshakeErrors+res.MessageErrors, res.ErrorSamples)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}
