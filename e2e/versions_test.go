package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// The wslb binary, in the network namespace it makes for itself, runs the
// version --proxy-version names, from the proxy cache when it is one of
// its versions, and reports that version.
func TestVerifyProxyVersion(t *testing.T) {
	testutil.EachProxyVersion(t, func(t *testing.T, bin proxybin.Binary) {
		v := fmt.Sprintf("%d.%d", bin.Version.Major, bin.Version.Minor)
		cmd := exec.Command(wslbBin, "verify", "../examples/chat.hcl", "--proxy", string(bin.Kind),
			"--proxy-version", v, "--clients", "30", "--scenarios", "stickiness,reload", "--format", "json")
		code, stdout, stderr := runToEnd(t, cmd, 2*time.Minute)
		require.Equal(t, 0, code, "stdout: %s\nstderr: %s", stdout, stderr)
		// One run (chat.hcl has one WebSocket pool): the report is that run.
		var run struct {
			Passed       bool   `json:"passed"`
			Proxy        string `json:"proxy"`
			ProxyVersion string `json:"proxy_version"`
		}
		require.NoError(t, json.Unmarshal([]byte(stdout), &run), stdout)
		require.True(t, run.Passed)
		require.Equal(t, string(bin.Kind), run.Proxy)
		require.True(t, strings.HasPrefix(run.ProxyVersion, v+"."), "ran %s, asked for %s", run.ProxyVersion, v)
	})
}
