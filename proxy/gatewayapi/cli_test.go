package gatewayapi_test

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
	"github.com/wslb/wslb/proxy/gatewayapi"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Run(context.Background(), args, cli.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// generate writes Gateway API YAML when named, and only then.
func TestGenerateWritesGatewayAPIOnlyWhenNamed(t *testing.T) {
	code, stdout, stderr := run(t, "generate", "../../examples/chat.hcl", "--proxy", "gateway-api")
	require.Equal(t, cli.ExitOK, code, stderr)
	want, err := os.ReadFile("../../testdata/golden/chat/gateway-api.yaml")
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

	code, _, stderr = run(t, "generate", "../../examples/chat.hcl", "--proxy", "gateway-api", "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	got, err := os.ReadFile(filepath.Join(dir, "gateway-api.yaml"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	code, _, stderr = run(t, "generate", "../../examples/chat.hcl", "--proxy", "gateway-api", "-o", dir, "--check")
	require.Equal(t, cli.ExitOK, code, stderr)
}

// verify and validate cannot run or read it: they do not offer it.
func TestGatewayAPIIsConfigOnly(t *testing.T) {
	_, ok := proxy.Lookup("gateway-api")
	require.False(t, ok)
	d, ok := proxy.LookupTarget("gateway-api")
	require.True(t, ok)
	require.Equal(t, gatewayapi.Kind, d.Name)
	require.NotContains(t, proxy.Names(), "gateway-api")
	require.Contains(t, proxy.TargetNames(), "gateway-api")
	require.Equal(t, "gateway-api.yaml", generator.FileName(gatewayapi.Kind))

	code, _, stderr := run(t, "verify", "../../examples/chat.hcl", "--proxy", "gateway-api")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, stderr, "--proxy must be haproxy, nginx or all")

	code, stdout, stderr := run(t, "__complete", "generate", "x.hcl", "--proxy", "")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, "gateway-api\n")
}

// HAProxy, NGINX and verify need server addresses: a pool naming a
// Kubernetes Service is refused at its attribute, with the reason.
func TestKubernetesServiceNeedsIstioOrGatewayAPI(t *testing.T) {
	const topo = "../../testdata/istio/kubernetes-service.hcl"
	for _, args := range [][]string{
		{"generate", topo, "--proxy", "haproxy"},
		{"generate", topo, "--proxy", "nginx"},
		{"generate", topo, "-o", t.TempDir()},
		{"validate", topo},
		{"verify", topo, "--proxy", "haproxy"},
	} {
		code, stdout, stderr := run(t, args...)
		require.Equal(t, cli.ExitInvalidInput, code, "%v: %s%s", args, stdout, stderr)
		require.Contains(t, stderr, "kubernetes-service.hcl:20:24: pool \"io\" names the Kubernetes Service \"board-io.realtime:3000\"", args)
		require.Contains(t, stderr, "needs the servers' addresses", args)
		require.Contains(t, stderr, "--proxy istio or --proxy gateway-api", args)
	}
	for _, p := range []string{"istio", "gateway-api"} {
		code, _, stderr := run(t, "generate", topo, "--proxy", p)
		require.Equal(t, cli.ExitOK, code, stderr)
	}
}

// wslb validate reads its own Gateway API output and finds no mistake in
// it: no error and no warning (infos, such as the note on useSourceIp
// behind a load balancer, are advice the topology cannot settle).
func TestValidateAgreesWithGoldenFiles(t *testing.T) {
	files, err := filepath.Glob("../../testdata/golden/*/gateway-api.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	code, stdout, stderr := run(t, append([]string{"validate"}, files...)...)
	require.Equal(t, cli.ExitOK, code, "%s%s", stdout, stderr)
	require.NotContains(t, stdout, " warning ")
	require.NotContains(t, stdout, " error ")
}
