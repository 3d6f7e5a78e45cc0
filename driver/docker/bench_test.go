package docker

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/loopback"
)

// BenchmarkSetupTeardown measures, per driver, opening a run, starting
// three echo backends and tearing it all down, docker beside loopback
// (make bench; docs/benchmarks.md records the numbers):
//
//	go test ./driver/docker -run '^$' -bench SetupTeardown -benchtime 5x
//
// docker needs an engine (make docker); the node image is built before
// the clock starts.
func BenchmarkSetupTeardown(b *testing.B) {
	for _, d := range []struct {
		name string
		open func(context.Context, driver.Options) (driver.Env, error)
	}{{"loopback", loopback.Open}, {"docker", Open}} {
		b.Run(d.name, func(b *testing.B) {
			ctx := context.Background()
			if d.name == "docker" {
				c, err := Connect(ctx)
				if err != nil {
					b.Skip(err)
				}
				if os.Getenv(NodeBinaryEnv) == "" {
					b.Setenv(NodeBinaryEnv, staticWSLB(b))
				}
				bin, _ := NodeBinary()
				_, err = NodeImage(ctx, c, bin)
				c.Close()
				require.NoError(b, err)
			}
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
