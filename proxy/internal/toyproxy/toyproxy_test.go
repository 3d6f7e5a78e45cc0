package toyproxy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/proxy/internal/toyproxy"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate"
)

// Nothing outside package toyproxy names the toy proxy: registering it is
// enough for the registry, detection, generate, validate and the CLI.

const toyConfig = "# a toy config\ntoy-listen public 8080\ntoy-pool realtime 10.0.0.1:3000\ntoy-idle 30\n"

func TestRegistryKnowsTheToy(t *testing.T) {
	require.Equal(t, []string{"haproxy", "nginx", "toy"}, proxy.Names())
	d, ok := proxy.Lookup("toyproxy")
	require.True(t, ok, "an alias finds the descriptor")
	require.Equal(t, toyproxy.Kind, d.Name)
	// Content decides, though ".conf" is NGINX's extension.
	require.Equal(t, toyproxy.Kind, proxy.DetectKind("site.conf", []byte(toyConfig)))
	// The built-in proxies are still told apart.
	require.Equal(t, proxy.Kind("nginx"), proxy.DetectKind("x", []byte("events {}\n")))
	require.Equal(t, proxy.Kind("haproxy"), proxy.DetectKind("x", []byte("frontend f\n  bind :80\n")))
	// verify runs only the proxies a driver can run: the toy has no Run.
	require.Equal(t, []proxy.Kind{"haproxy", "nginx"}, proxy.Runnable())
	require.Equal(t, proxy.Kind("haproxy"), proxy.Fallback().Name, "the toy leaves the fallback alone")
}

func TestGenerateMakesTheToyConfig(t *testing.T) {
	topo, diags := topology.NewLoader().LoadFile("../../../examples/chat.hcl")
	require.False(t, diags.HasErrors(), diags.Error())
	arts, err := generator.Generate(topo, generator.Options{})
	require.NoError(t, err)
	var names []string
	for _, a := range arts {
		names = append(names, a.Name)
	}
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf", "toy.conf"}, names)
	require.Contains(t, string(arts[2].Bytes), "toy-listen public 8080\n")

	code, stdout, stderr := targettest.Run(t, "generate", "../../../examples/chat.hcl", "--proxy", "toy")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.True(t, strings.HasPrefix(stdout, "toy-listen public 8080\n"), stdout)
}

func TestValidateRunsTheToyRule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "edge.conf")
	require.NoError(t, os.WriteFile(path, []byte(toyConfig), 0o644))
	res, err := validate.Lint(context.Background(), []validate.Source{{Name: path}}, validate.Options{})
	require.NoError(t, err)
	require.Len(t, res.Findings, 1)
	f := res.Findings[0]
	require.Equal(t, toyproxy.ShortIdleID, f.Rule)
	require.Equal(t, 4, f.Line)
	require.Equal(t, 10, f.Column)

	code, stdout, stderr := targettest.Run(t, "validate", path, "--fail-on", "warning")
	require.Equal(t, cli.ExitFailed, code, stderr)
	require.Contains(t, stdout, "TOY001")
	// --disable and --list-rules know the rule.
	code, _, stderr = targettest.Run(t, "validate", path, "--disable", "toy001", "--fail-on", "info")
	require.Equal(t, cli.ExitOK, code, stderr)
	code, stdout, _ = targettest.Run(t, "validate", "--list-rules")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, stdout, "TOY001")

	// A topology linted for the toy proxy only: generated, then checked.
	code, stdout, stderr = targettest.Run(t, "validate", "../../../examples/chat.hcl", "--proxy", "toy", "--fail-on", "none")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.NotContains(t, stdout, "TOY001", "the generated toy-idle is the tunnel timeout, 1h")
}

func TestValidateTakesTheToyVersion(t *testing.T) {
	code, stdout, _ := targettest.Run(t, "validate", "--help")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, stdout, "target toy version (default: the installed toy, else 1.0)")
	path := filepath.Join(t.TempDir(), "edge.conf")
	require.NoError(t, os.WriteFile(path, []byte(toyConfig), 0o644))
	code, _, stderr := targettest.Run(t, "validate", path, "--toy-version", "1.x")
	require.Equal(t, cli.ExitUsage, code, stderr)
	require.Contains(t, stderr, "--toy-version")
	code, _, stderr = targettest.Run(t, "validate", path, "--toy-version", "1.2", "--fail-on", "none")
	require.Equal(t, cli.ExitOK, code, stderr)
}

func TestCLIChoicesOfferTheToy(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "x.hcl", "--proxy", ""},
		{"validate", "x.conf", "--proxy", ""},
		{"verify", "x.hcl", "--proxy", ""},
	} {
		code, stdout, stderr := targettest.Run(t, append([]string{"__complete"}, args...)...)
		require.Equal(t, cli.ExitOK, code, stderr)
		require.Contains(t, stdout, "toy\n", args)
		require.NotContains(t, stdout, "toyproxy", "aliases are not offered")
	}
	code, stdout, _ := targettest.Run(t, "generate", "--help")
	require.Equal(t, cli.ExitOK, code)
	require.Contains(t, stdout, "gateway-api, haproxy, istio, nginx or toy")
	code, _, stderr := targettest.Run(t, "generate", "x.hcl", "--proxy", "envoy")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, stderr, "want gateway-api, haproxy, istio, nginx or toy")
}
