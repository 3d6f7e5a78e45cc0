package istio_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/istio"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Run(context.Background(), args, cli.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// generate writes Istio YAML when named, and only then: a plain
// `generate -o DIR` keeps writing the configs of the proxies wslb runs.
func TestGenerateWritesIstioOnlyWhenNamed(t *testing.T) {
	code, stdout, stderr := run(t, "generate", "../../examples/chat.hcl", "--proxy", "istio")
	require.Equal(t, cli.ExitOK, code, stderr)
	want, err := os.ReadFile("../../testdata/golden/chat/istio.yaml")
	require.NoError(t, err)
	require.Equal(t, string(want), stdout)

	dir := t.TempDir()
	code, _, stderr = run(t, "generate", "../../examples/chat.hcl", "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf"}, names)

	code, _, stderr = run(t, "generate", "../../examples/chat.hcl", "--proxy", "istio", "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	got, err := os.ReadFile(filepath.Join(dir, "istio.yaml"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	code, _, stderr = run(t, "generate", "../../examples/chat.hcl", "--proxy", "istio", "-o", dir, "--check")
	require.Equal(t, cli.ExitOK, code, stderr)
}

// verify cannot run Istio and does not offer it; validate reads it.
func TestIstioIsConfigOnly(t *testing.T) {
	_, ok := proxy.Lookup("istio")
	require.False(t, ok)
	d, ok := proxy.LookupTarget("istio")
	require.True(t, ok)
	require.Equal(t, istio.Kind, d.Name)
	require.NotContains(t, proxy.Names(), "istio")
	require.Contains(t, proxy.TargetNames(), "istio")
	require.Contains(t, proxy.ReadableNames(), "istio")
	require.Equal(t, "istio.yaml", generator.FileName(istio.Kind))

	code, _, stderr := run(t, "verify", "../../examples/chat.hcl", "--proxy", "istio")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, stderr, "--proxy must be haproxy, nginx or all")
	// An Istio file handed to verify is told apart, and refused plainly.
	code, _, stderr = run(t, "verify", "../../testdata/golden/chat/istio.yaml")
	require.Equal(t, cli.ExitInvalidInput, code, stderr)
	require.Contains(t, stderr, "istio config, which verify cannot run")

	code, stdout, stderr := run(t, "validate", "../../examples/chat.hcl", "--proxy", "istio", "--fail-on", "warning")
	require.Equal(t, cli.ExitOK, code, stdout+stderr)

	code, stdout, stderr = run(t, "__complete", "generate", "x.hcl", "--proxy", "")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, "istio\n")
	code, stdout, stderr = run(t, "__complete", "validate", "x.yaml", "--proxy", "")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, "istio\n")
	code, stdout, stderr = run(t, "__complete", "verify", "x.hcl", "--proxy", "")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.NotContains(t, stdout, "istio")
}
