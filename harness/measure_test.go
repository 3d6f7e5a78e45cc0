package harness_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/memstat"
	"github.com/wslb/wslb/internal/testutil"
)

// TestHelperEcho is not a test: the measurements run the test binary as a
// child serving echo backends, so their memory doesn't count against the
// harness's.
func TestHelperEcho(t *testing.T) { testutil.ServeEchoBackends(t) }

// startEchoProcess starts an echo backend in a child process and returns
// its address.
func startEchoProcess(tb testing.TB) string {
	tb.Helper()
	addrs, _ := testutil.StartEchoBackends(tb, "TestHelperEcho", "remote")
	return addrs["remote"]
}

// TestMeasureHeldConnMemory reports the harness's memory per held
// connection (Open, source mode).
//
//	go test ./harness -run TestMeasureHeldConnMemory -v
func TestMeasureHeldConnMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement; runs without -short")
	}
	n := memstat.Conns(t)
	per := measureHeld(t, n)
	t.Logf("harness, %d held connections: %s per connection", n, per)
	// A generous bound that still catches a reader goroutine or a big
	// buffer per connection (the target is 4 KB).
	require.Less(t, per.HeapStack, 8.0*1024)
}

// BenchmarkHeldConnMemory reports the same as TestMeasureHeldConnMemory
// as benchmark metrics.
//
//	go test ./harness -run '^$' -bench HeldConnMemory
func BenchmarkHeldConnMemory(b *testing.B) {
	var per memstat.PerItem
	testutil.BenchOnce(b, func() { per = measureHeld(b, memstat.Conns(b)) })
	per.Report(b, "")
}

// measureHeld holds n connections to a backend in a child process and
// returns the harness's growth per connection.
func measureHeld(tb testing.TB, n int) memstat.PerItem {
	tb.Helper()
	addr := startEchoProcess(tb)
	cfg := harness.Config{URL: "ws://" + addr + "/", Mode: harness.ModeSource, Messages: 1, CheckInterval: time.Hour}

	// Warm up: dialer, pools and stacks.
	cfg.Clients = 4
	warm, err := harness.New(cfg)
	require.NoError(tb, err)
	ws, err := warm.Open(context.Background())
	require.NoError(tb, err)
	require.NoError(tb, ws.Close())

	before := memstat.Take()
	cfg.Clients = n
	h, err := harness.New(cfg)
	require.NoError(tb, err)
	s, err := h.Open(context.Background())
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	require.Zero(tb, s.Opened().HandshakeErrors, s.Opened().ErrorSamples)
	require.Equal(tb, n, s.Open())
	per := memstat.Per(before, memstat.Take(), n)
	require.Equal(tb, n, s.Check(), "still open")
	return per
}

// BenchmarkEchoRTTDirect measures one echo round trip straight to a
// backend in another process, through the harness's exchange path.
//
//	go test ./harness -run '^$' -bench EchoRTT -benchtime 20000x
func BenchmarkEchoRTTDirect(b *testing.B) {
	addr := startEchoProcess(b)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	require.NoError(b, err)
	defer c.Close()
	msg := []byte(strings.Repeat("x", harness.DefaultMessageSize))
	b.ResetTimer()
	for b.Loop() {
		if err := c.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun measures a harness run straight to a backend in another
// process: per op, one connection with handshake, 5 messages and a close.
//
//	go test ./harness -run '^$' -bench 'Run$' -benchtime 2000x
func BenchmarkRun(b *testing.B) {
	addr := startEchoProcess(b)
	h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Mode: harness.ModeSource, Clients: b.N, Messages: 5, Concurrency: 16})
	require.NoError(b, err)
	b.ResetTimer()
	res, err := h.Run(context.Background())
	require.NoError(b, err)
	require.Zero(b, res.HandshakeErrors+res.MessageErrors, res.ErrorSamples)
	lat := res.Latency()
	b.ReportMetric(float64(lat.P50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat.P99.Microseconds()), "p99-µs")
}

// BenchmarkSessionCheck measures one sweep of the held-connection monitor
// over 2,000 idle connections (WSLB_MEASURE_CONNS to change).
//
//	go test ./harness -run '^$' -bench SessionCheck
func BenchmarkSessionCheck(b *testing.B) {
	n := memstat.Conns(b)
	addr := startEchoProcess(b)
	h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Mode: harness.ModeSource, Clients: n, CheckInterval: time.Hour})
	require.NoError(b, err)
	s, err := h.Open(context.Background())
	require.NoError(b, err)
	defer s.Close()
	require.Equal(b, n, s.Open())
	for b.Loop() {
		if open := s.Check(); open != n {
			b.Fatalf("%d of %d connections open", open, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/conn")
}
