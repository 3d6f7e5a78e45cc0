package istio_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/internal/targettest"
)

// generate writes Istio YAML when named, and only then: a plain
// `generate -o DIR` keeps writing the configs of the proxies wslb runs.
func TestGenerateWritesIstioOnlyWhenNamed(t *testing.T) { target.GenerateOnlyWhenNamed(t) }

// verify cannot run Istio and does not offer it; validate reads it.
func TestIstioIsConfigOnly(t *testing.T) {
	target.ConfigOnly(t)
	require.Contains(t, proxy.ReadableNames(), "istio")

	// An Istio file handed to verify is told apart, and refused plainly.
	code, _, stderr := targettest.Run(t, "verify", "../../testdata/golden/chat/istio.yaml")
	require.Equal(t, cli.ExitInvalidInput, code, stderr)
	require.Contains(t, stderr, "istio config, which verify cannot run")

	code, stdout, stderr := targettest.Run(t, "validate", "../../examples/chat.hcl", "--proxy", "istio", "--fail-on", "warning")
	require.Equal(t, cli.ExitOK, code, stdout+stderr)

	code, stdout, stderr = targettest.Run(t, "__complete", "validate", "x.yaml", "--proxy", "")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, "istio\n")
	code, stdout, stderr = targettest.Run(t, "__complete", "verify", "x.hcl", "--proxy", "")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.NotContains(t, stdout, "istio")
}
