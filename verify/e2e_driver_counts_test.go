package verify_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/docker"
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

// On the docker driver every echo backend is a container, whose counters
// the driver reads over HTTP: the timeline counts what each served.
func TestE2EDockerTimelineCountsConnections(t *testing.T) {
	testutil.NeedDocker(t)
	testutil.NeedProxy(t, proxybin.HAProxy)
	// A static wslb for the node image (the test binary may not be).
	bin := filepath.Join(t.TempDir(), "wslb")
	build := exec.Command("go", "build", "-o", bin, "github.com/wslb/wslb/cmd/wslb")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Setenv(docker.NodeBinaryEnv, bin)
	opts := small(proxybin.HAProxy)
	opts.Driver = docker.Name
	opts.Timeout = 5 * time.Minute
	opts.ProxyImages = map[proxybin.Kind]string{proxybin.HAProxy: testutil.DockerProxyImage}
	opts.ProxyVersions = map[proxybin.Kind]string{proxybin.HAProxy: testutil.DockerProxyVersions[proxybin.HAProxy]}
	opts.Scenarios = []string{verify.ScenarioFailover, verify.ScenarioReload}
	s, err := verify.VerifyTopology(context.Background(), load(t, filepath.Join("..", "examples", "chat.hcl")), opts)
	require.NoError(t, err)
	require.Len(t, s.Runs, 1)
	r := s.Runs[0]
	require.Equal(t, docker.Name, r.Driver)
	require.True(t, r.Passed, reportText(s))
	requireTimelineServes(t, r)
}
