package verify

import (
	"os"
	"runtime/debug"
)

// The garbage collector's settings while a pool is verified, unless GOGC
// (or GOMEMLIMIT) is set. A run's live heap is small (tens of MB at 9,000
// held connections) but thousands of goroutines hold it, so every
// collection scans thousands of stacks: at the default target a 1,000-client
// run collected about 65 times and spent about a tenth of its CPU doing so.
// Four times the live heap between collections cuts that several-fold; the
// memory limit keeps the heap bounded whatever the clients count.
const (
	runGCPercent   = 400
	runMemoryLimit = 512 << 20
)

// tuneGC applies the run's GC settings and returns the function that puts
// back the previous ones.
func tuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	oldPercent := debug.SetGCPercent(runGCPercent)
	oldLimit := debug.SetMemoryLimit(-1) // reads it
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(min(oldLimit, runMemoryLimit))
	}
	return func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	}
}
