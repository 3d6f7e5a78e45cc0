// Package drivertest holds what the drivers' tests and benchmarks share.
package drivertest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/loopback"
)

// Open opens a run of a driver.
type Open func(context.Context, driver.Options) (driver.Env, error)

// BenchSetupTeardown measures opening a run with open, starting three
// echo backends and tearing it all down, b.N times, and reports the mean
// of each half (setup-ms, teardown-ms).
func BenchSetupTeardown(b *testing.B, open Open) {
	ctx := context.Background()
	var setup, teardown time.Duration
	b.ResetTimer() // a caller's preparation (an image to build) is not timed
	for range b.N {
		t0 := time.Now()
		env, err := open(ctx, driver.Options{})
		require.NoError(b, err)
		_, err = env.StartBackends(ctx, driver.BackendSpec{IDs: []string{"ws1", "ws2", "ws3"}, New: loopback.EchoBackend, Echo: true})
		if err != nil {
			_ = env.Close()
		}
		require.NoError(b, err)
		t1 := time.Now()
		require.NoError(b, env.Close())
		setup, teardown = setup+t1.Sub(t0), teardown+time.Since(t1)
	}
	b.ReportMetric(float64(setup.Milliseconds())/float64(b.N), "setup-ms")
	b.ReportMetric(float64(teardown.Milliseconds())/float64(b.N), "teardown-ms")
}
