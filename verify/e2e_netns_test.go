package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/netns"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/verify"
)

// needNetns skips where the netns driver cannot run (not root); CI runs
// as root, so there it runs.
func needNetns(t *testing.T) {
	t.Helper()
	if err := netns.Check(driver.Needs{}); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the netns driver must run in CI: %v", err)
		}
		t.Skipf("netns driver unavailable: %v", err)
	}
}

// On the netns driver every echo backend is a process of its own, which
// reports its connection counts: the timeline counts what each backend
// served, as it does on loopback.
func TestE2ENetnsTimelineCountsConnections(t *testing.T) {
	needNetns(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	opts := small(proxybin.HAProxy)
	opts.Driver = netns.Name
	opts.Scenarios = []string{verify.ScenarioFailover, verify.ScenarioReload}
	s, err := verify.VerifyTopology(context.Background(), load(t, filepath.Join("..", "examples", "chat.hcl")), opts)
	require.NoError(t, err)
	require.Len(t, s.Runs, 1)
	r := s.Runs[0]
	require.Equal(t, netns.Name, r.Driver)
	require.True(t, r.Passed, reportText(s))
	requireTimelineServes(t, r)
}
