package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/verify"
)

// A config keyed on a header the harness's WebSocket client writes itself
// is reported as a harness limit, not as broken affinity of the proxy.
func TestE2EHandshakeHeaderKeyIsAHarnessLimit(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	cfg, err := os.ReadFile(filepath.Join("testdata", "configs", "sticky-header.haproxy.cfg"))
	require.NoError(t, err)
	text := strings.Replace(string(cfg), "balance hdr(X-Session-Id)", "balance hdr(Sec-WebSocket-Key)", 1)
	require.NotEqual(t, string(cfg), text)
	path := filepath.Join(t.TempDir(), "key.haproxy.cfg")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))

	s, err := verify.VerifyConfig(context.Background(), path, "", small())
	require.NoError(t, err)
	require.Len(t, s.Runs, 1)
	run := s.Runs[0]
	require.True(t, run.Passed, "the proxy is not blamed")
	require.NotEmpty(t, run.Scenarios)
	for _, sc := range run.Scenarios {
		require.True(t, sc.Skipped, sc.Name)
		require.Contains(t, sc.Summary, "harness limit")
		require.Contains(t, sc.Summary, "Sec-WebSocket-Key")
	}
	require.Contains(t, reportText(s), "harness limit")
}
