// Package memstat takes memory snapshots of the running process, for the
// per-connection measurements in the echo and harness tests.
package memstat

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
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
	return Snapshot{Heap: ms.HeapAlloc, Stack: ms.StackInuse, RSS: rss()}
}

// PerItem is the growth from before to after divided by n.
type PerItem struct {
	HeapStack float64 // live heap plus stacks, bytes
	RSS       float64 // resident set, bytes
}

// Per returns the growth per item between two snapshots.
func Per(before, after Snapshot, n int) PerItem {
	d := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	return PerItem{
		HeapStack: d(after.Heap+after.Stack, before.Heap+before.Stack),
		RSS:       d(after.RSS, before.RSS),
	}
}

func (p PerItem) String() string {
	return fmt.Sprintf("heap+stack %.1f KB, RSS %.1f KB", p.HeapStack/1024, p.RSS/1024)
}

// rss reads VmRSS from /proc/self/status.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
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
