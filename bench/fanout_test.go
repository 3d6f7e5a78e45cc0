package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/memstat"
	"github.com/wslb/wslb/internal/testutil"
)

// harnessFanout holds n fan-out clients (joined to rooms of 10, reading)
// after a warm-up, telling the parent when to read its memory: "ready"
// before, "held" after.
func harnessFanout(addr string, n int) error {
	open := func(clients, first int) (*harness.Fanout, error) {
		h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Mode: harness.ModeSource, Clients: clients, FirstClient: first})
		if err != nil {
			return nil, err
		}
		return h.OpenFanout(context.Background(), harness.FanoutSpec{RoomSize: 10, Messages: 4})
	}
	warm, err := open(10, 1000)
	if err != nil {
		return err
	}
	warm.Close()
	in := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	if _, err := in.ReadString('\n'); err != nil {
		return err
	}
	f, err := open(n, 2000)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, c := range f.Result().Clients {
		if c.Err != "" {
			return fmt.Errorf("%s did not join: %s", c.Client.Name, c.Err)
		}
	}
	fmt.Println("held")
	_, _ = io.Copy(io.Discard, in)
	return nil
}

// BenchmarkFanoutMemoryPerClient is the harness's memory per subscribed
// fan-out client (a connection joined to a room, with its reader and its
// delivery bookkeeping), in its own process against wslb echo.
func BenchmarkFanoutMemoryPerClient(b *testing.B) {
	n := envInt(envHold, 5000)
	var per float64
	testutil.BenchOnce(b, func() {
		srv, addr := startWslbEcho(b)
		h := startHelper(b, "harness-fanout", addr, n)
		require.Equal(b, "ready", h.line(b))
		pid := h.cmd.Process.Pid
		before := memstat.ProcessRSS(pid)
		_, err := io.WriteString(h.stdin, "go\n")
		require.NoError(b, err)
		require.Equal(b, "held", h.line(b))
		time.Sleep(500 * time.Millisecond)
		per = memstat.Growth(before, memstat.ProcessRSS(pid), n)
		h.stop(b)
		srv.stop(b)
	})
	b.Logf("%d fan-out clients joined and reading: harness %.1f KB RSS per client", n, per/1024)
	b.ReportMetric(per, "harness-rss-B/client")
}
