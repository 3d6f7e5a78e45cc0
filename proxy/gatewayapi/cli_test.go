package gatewayapi_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/proxy/internal/targettest"
)

// generate writes Gateway API YAML when named, and only then.
func TestGenerateWritesGatewayAPIOnlyWhenNamed(t *testing.T) { target.GenerateOnlyWhenNamed(t) }

// verify and validate cannot run or read it: they do not offer it.
func TestGatewayAPIIsConfigOnly(t *testing.T) { target.ConfigOnly(t) }

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
		code, stdout, stderr := targettest.Run(t, args...)
		require.Equal(t, cli.ExitInvalidInput, code, "%v: %s%s", args, stdout, stderr)
		require.Contains(t, stderr, "kubernetes-service.hcl:20:24: pool \"io\" names the Kubernetes Service \"board-io.realtime:3000\"", args)
		require.Contains(t, stderr, "needs the servers' addresses", args)
		require.Contains(t, stderr, "--proxy istio or --proxy gateway-api", args)
	}
	for _, p := range []string{"istio", "gateway-api"} {
		code, _, stderr := targettest.Run(t, "generate", topo, "--proxy", p)
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
	code, stdout, stderr := targettest.Run(t, append([]string{"validate"}, files...)...)
	require.Equal(t, cli.ExitOK, code, "%s%s", stdout, stderr)
	require.NotContains(t, stdout, " warning ")
	require.NotContains(t, stdout, " error ")
}
