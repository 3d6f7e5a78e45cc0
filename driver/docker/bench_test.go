package docker

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver/internal/drivertest"
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
	b.Run("loopback", func(b *testing.B) { drivertest.BenchSetupTeardown(b, loopback.Open) })
	b.Run("docker", func(b *testing.B) {
		ctx := context.Background()
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
		drivertest.BenchSetupTeardown(b, Open)
	})
}
