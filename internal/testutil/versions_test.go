package testutil

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
)

const needVersionHelperEnv = "WSLB_TEST_NEED_VERSION"

// TestHelperNeedVersion asks for a version no machine has; run as an
// ordinary test, it skips.
func TestHelperNeedVersion(t *testing.T) {
	if os.Getenv(needVersionHelperEnv) == "" {
		t.Skip("helper process for TestNeedProxyVersionFailsInCI")
	}
	NeedProxyVersion(t, proxybin.HAProxy, "9.9")
	t.Log("went past NeedProxyVersion")
}

// A missing version skips the test, naming `make proxies`, except under
// WSLB_REQUIRE_PROXIES=1, where it fails.
func TestNeedProxyVersionFailsInCI(t *testing.T) {
	t.Parallel()
	run := func(require string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNeedVersion$", "-test.v")
		cmd.Env = append(os.Environ(), needVersionHelperEnv+"=1", RequireProxiesEnv+"="+require,
			proxybin.CacheEnv+"="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("")
	require.NoError(t, err, out)
	require.Contains(t, out, "--- SKIP")
	require.Contains(t, out, "make proxies")

	out, err = run("1")
	require.Error(t, err, out)
	require.Contains(t, out, "--- FAIL")
	require.Contains(t, out, "haproxy 9.9 is required")
	require.NotContains(t, out, "went past NeedProxyVersion")
}
