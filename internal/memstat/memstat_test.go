package memstat

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseRSS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, status string
		want         uint64
	}{
		{"present", "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nVmData:\t 77 kB\n", 1234 * 1024},
		{"absent", "Name:\tx\nVmPeak:\t  9000 kB\n", 0},
		{"unreadable", "VmRSS:\t lots kB\n", 0},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, parseRSS(strings.NewReader(tc.status)))
		})
	}
}

func TestProcessRSS(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	self := ProcessRSS(os.Getpid())
	require.Positive(t, self)
	// The resident set moves a little between reads.
	require.InDelta(t, 2*self, ProcessRSS(os.Getpid(), os.Getpid()), float64(self)/2, "sums its processes")
	require.Zero(t, ProcessRSS(-1), "a process that cannot be read counts 0")
}

func TestPer(t *testing.T) {
	t.Parallel()
	before := Snapshot{Heap: 1000, Stack: 24, RSS: 4096}
	after := Snapshot{Heap: 3000, Stack: 1048, RSS: 2048}
	per := Per(before, after, 4)
	require.Equal(t, PerItem{HeapStack: 756, RSS: -512}, per)
	require.Equal(t, "heap+stack 0.7 KB, RSS -0.5 KB", per.String())
}

func TestTakeSeesLiveHeap(t *testing.T) {
	// Not parallel: other tests' allocations would blur the growth.
	before := Take()
	hold := make([][]byte, 64)
	for i := range hold {
		hold[i] = make([]byte, 64<<10)
	}
	after := Take()
	require.Greater(t, Per(before, after, len(hold)).HeapStack, 32.0*1024, "each 64 KB block is live")
	runtime.KeepAlive(hold)
}

func TestConns(t *testing.T) {
	t.Setenv("WSLB_MEASURE_CONNS", "")
	require.Equal(t, 2000, Conns(t))
	t.Setenv("WSLB_MEASURE_CONNS", "150")
	require.Equal(t, 150, Conns(t))
}
