package netns_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/driver/netns"
)

// BenchmarkSetupTeardown measures, per driver, opening a run, starting
// three echo backends and tearing it all down (make bench;
// docs/benchmarks.md records the numbers):
//
//	go test ./driver/netns -run '^$' -bench SetupTeardown -benchtime 20x
func BenchmarkSetupTeardown(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(context.Context, driver.Options) (driver.Env, error)
	}{{"loopback", loopback.Open}, {"netns", netns.Open}} {
		b.Run(d.name, func(b *testing.B) {
			if d.name == "netns" {
				if err := netns.Check(driver.Needs{}); err != nil {
					b.Skip(err)
				}
			}
			ctx := context.Background()
			var setup, teardown time.Duration
			for range b.N {
				t0 := time.Now()
				env, err := d.open(ctx, driver.Options{})
				require.NoError(b, err)
				_, err = env.StartBackends(ctx, driver.BackendSpec{IDs: []string{"ws1", "ws2", "ws3"}, New: loopback.EchoBackend, Echo: true})
				require.NoError(b, err)
				t1 := time.Now()
				require.NoError(b, env.Close())
				setup, teardown = setup+t1.Sub(t0), teardown+time.Since(t1)
			}
			b.ReportMetric(float64(setup.Milliseconds())/float64(b.N), "setup-ms")
			b.ReportMetric(float64(teardown.Milliseconds())/float64(b.N), "teardown-ms")
		})
	}
}
