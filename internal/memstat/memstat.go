// Package memstat measures memory per item (connection, client) for the
// memory tests and benchmarks: snapshots of this process, the resident set
// of other processes, and the benchmark metrics they are reported as.
package memstat

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Snapshot is the process's memory at one moment, after a full collection.
type Snapshot struct {
	Heap  uint64 // live heap bytes
	Stack uint64 // goroutine stack bytes in use
	RSS   uint64 // resident set size (Linux; 0 elsewhere)
}

// Take collects garbage, returns freed memory to the OS and snapshots.
func Take() Snapshot {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Snapshot{Heap: ms.HeapAlloc, Stack: ms.StackInuse, RSS: statusRSS("/proc/self/status")}
}

// PerItem is the growth from before to after divided by n.
type PerItem struct {
	HeapStack float64 // live heap plus stacks, bytes
	RSS       float64 // resident set, bytes
}

// Per returns the growth per item between two snapshots.
func Per(before, after Snapshot, n int) PerItem {
	return PerItem{
		HeapStack: Growth(before.Heap+before.Stack, after.Heap+after.Stack, n),
		RSS:       Growth(before.RSS, after.RSS, n),
	}
}

// Growth is (after - before) / n; it is negative when memory shrank.
func Growth(before, after uint64, n int) float64 {
	return (float64(after) - float64(before)) / float64(n)
}

func (p PerItem) String() string {
	return fmt.Sprintf("heap+stack %.1f KB, RSS %.1f KB", p.HeapStack/1024, p.RSS/1024)
}

// Report adds p to b's metrics as prefix+"heap+stack-B/conn" and
// prefix+"rss-B/conn".
func (p PerItem) Report(b *testing.B, prefix string) {
	b.ReportMetric(p.HeapStack, prefix+"heap+stack-B/conn")
	b.ReportMetric(p.RSS, prefix+"rss-B/conn")
}

// Conns is how many connections a measurement opens: WSLB_MEASURE_CONNS,
// or 2,000.
func Conns(tb testing.TB) int {
	tb.Helper()
	v := os.Getenv("WSLB_MEASURE_CONNS")
	if v == "" {
		return 2000
	}
	n, err := strconv.Atoi(v)
	require.NoError(tb, err, "WSLB_MEASURE_CONNS")
	return n
}

// ProcessRSS sums the resident set size of the given processes (Linux; a
// process that cannot be read counts 0).
func ProcessRSS(pids ...int) uint64 {
	var total uint64
	for _, pid := range pids {
		total += statusRSS("/proc/" + strconv.Itoa(pid) + "/status")
	}
	return total
}

// statusRSS reads VmRSS from a /proc/PID/status file, or 0.
func statusRSS(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	return parseRSS(f)
}

// parseRSS finds VmRSS in /proc/PID/status text, in bytes, or 0.
func parseRSS(r io.Reader) uint64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
