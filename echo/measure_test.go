package echo_test

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/memstat"
	"github.com/wslb/wslb/internal/testutil"
)

// TestHelperDialer is not a test: TestMeasureIdleMemory runs the test
// binary with WSLB_HELPER_DIAL="ADDR N" to hold N client connections in
// another process, so they don't count against the backend's memory.
func TestHelperDialer(t *testing.T) {
	spec := os.Getenv("WSLB_HELPER_DIAL")
	if spec == "" {
		t.Skip("helper process for TestMeasureIdleMemory")
	}
	addr, nStr, _ := strings.Cut(spec, " ")
	n, err := strconv.Atoi(nStr)
	if err != nil {
		fmt.Println("bad WSLB_HELPER_DIAL:", err)
		os.Exit(2)
	}
	conns := make([]*websocket.Conn, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var failed sync.Once
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
			if err != nil {
				failed.Do(func() { fmt.Println("dial:", err); os.Exit(1) })
			}
			conns[i] = c
		})
	}
	wg.Wait()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // hold until the parent closes stdin
	os.Exit(0)
}

// TestMeasureIdleMemory reports the backend's memory per idle WebSocket.
//
//	go test ./echo -run TestMeasureIdleMemory -v
func TestMeasureIdleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("measurement; runs without -short")
	}
	n := memstat.Conns(t)
	per := measureIdle(t, n)
	t.Logf("echo backend, %d idle WebSocket connections: %s per connection", n, per)
	// A generous bound that still catches a per-connection buffer leak
	// (the target is 16 KB).
	require.Less(t, per.HeapStack, 32.0*1024)
}

// BenchmarkIdleConnMemory reports the same as TestMeasureIdleMemory as
// benchmark metrics.
//
//	go test ./echo -run '^$' -bench IdleConnMemory
func BenchmarkIdleConnMemory(b *testing.B) {
	var per memstat.PerItem
	testutil.BenchOnce(b, func() { per = measureIdle(b, memstat.Conns(b)) })
	per.Report(b, "")
}

// measureIdle opens n connections from a child process to a backend in
// this process and returns the backend's growth per connection.
func measureIdle(tb testing.TB, n int) memstat.PerItem {
	tb.Helper()
	srv, addr, _ := serve(tb, "mem")
	tb.Cleanup(func() { _ = srv.Close() })

	// Warm up the server's pools and goroutine stacks.
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	require.NoError(tb, err)
	require.NoError(tb, c.WriteMessage(websocket.TextMessage, []byte("warm")))
	_, _, err = c.ReadMessage()
	require.NoError(tb, err)
	require.NoError(tb, c.Close())
	require.Eventually(tb, func() bool { return srv.Stats().Open == 0 }, 5*time.Second, 10*time.Millisecond)

	before := memstat.Take()
	out, _ := testutil.StartHelper(tb, "TestHelperDialer", fmt.Sprintf("WSLB_HELPER_DIAL=%s %d", addr, n))
	line, err := out.ReadString('\n')
	require.NoError(tb, err)
	require.Equal(tb, "ready\n", line)
	require.Eventually(tb, func() bool { return srv.Stats().Open == n }, 30*time.Second, 10*time.Millisecond)
	return memstat.Per(before, memstat.Take(), n)
}
