package netns_test

import (
	"testing"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/internal/drivertest"
	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/driver/netns"
)

// BenchmarkSetupTeardown measures, per driver, opening a run, starting
// three echo backends and tearing it all down (make bench;
// docs/benchmarks.md records the numbers):
//
//	go test ./driver/netns -run '^$' -bench SetupTeardown -benchtime 20x
func BenchmarkSetupTeardown(b *testing.B) {
	b.Run("loopback", func(b *testing.B) { drivertest.BenchSetupTeardown(b, loopback.Open) })
	b.Run("netns", func(b *testing.B) {
		if err := netns.Check(driver.Needs{}); err != nil {
			b.Skip(err)
		}
		drivertest.BenchSetupTeardown(b, netns.Open)
	})
}
