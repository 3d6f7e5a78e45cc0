package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/words"
	"github.com/wslb/wslb/proxy"
)

func TestProxyFlagEverywhere(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	code, stdout, stderr := runCLI(t, "generate", topo, "--proxy", "nginx")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "hash $remote_addr consistent;")
	require.NotContains(t, stdout, "balance source")
	require.Empty(t, stderr)

	code, _, stderr = runValidateCLI(t, "frontend f\n  bind :80\n", "-", "--proxy", "haproxy")
	require.NotEqual(t, ExitUsage, code, stderr)
	require.NotContains(t, stderr, "deprecated")

	code, _, stderr = runCLI(t, "verify", topo, "--proxy", "envoy")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, "--proxy must be haproxy, nginx or all")
}

func TestOldProxyFlagSpellingsAreDeprecatedAliases(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	code, stdout, stderr := runCLI(t, "generate", topo, "--target", "nginx")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "hash $remote_addr consistent;")
	require.Contains(t, stderr, "--target is deprecated")
	require.Contains(t, stderr, "use --proxy nginx")

	code, _, stderr = runValidateCLI(t, "frontend f\n  bind :80\n", "-", "--kind", "haproxy")
	require.NotEqual(t, ExitUsage, code, stderr)
	require.Contains(t, stderr, "--kind is deprecated")

	// A bad value is reported under the spelling given.
	code, _, stderr = runCLI(t, "generate", topo, "--target", "envoy")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, `--target "envoy": want compose, gateway-api, haproxy, istio or nginx`)

	code, _, stderr = runCLI(t, "generate", topo, "--target", "nginx", "--proxy", "haproxy")
	require.Equal(t, ExitUsage, code)
	require.Contains(t, stderr, "disagree")
}

func TestOldProxyFlagSpellingsAreHidden(t *testing.T) {
	for _, cmd := range []string{"generate", "validate", "verify"} {
		code, stdout, stderr := runCLI(t, cmd, "--help")
		require.Equal(t, ExitOK, code, stderr)
		require.Contains(t, stdout, "--proxy")
		require.NotContains(t, stdout, "--target")
		require.NotContains(t, stdout, "--kind")
	}
}

func TestProxyCompletionComesFromTheRegistry(t *testing.T) {
	for _, args := range [][]string{
		{"generate", "x.hcl", "--proxy", ""},
		{"validate", "x.cfg", "--proxy", ""},
		{"verify", "x.hcl", "--proxy", ""},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"__complete"}, args...)...)
		require.Equal(t, ExitOK, code, stderr)
		require.Contains(t, stdout, "haproxy\n", args)
		require.Contains(t, stdout, "nginx\n", args)
	}
}

func tick(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, "`"+n+"`")
	}
	return out
}

// The docs list the proxies the registry has, as the flags' help does.
func TestDocsListTheRegisteredProxies(t *testing.T) {
	names := proxy.Names()
	ticked := "`" + strings.Join(names, "` or `") + "`"
	for file, want := range map[string]string{
		"../../README.md":        "`--proxy` (" + ticked,
		"../../docs/validate.md": "| `--proxy` | detect | " + words.Or(tick(proxy.ReadableNames())) + " ",
		"../../docs/verify.md":   "--proxy " + strings.Join(names, "|") + "|all",
	} {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		require.Contains(t, string(b), want, file)
	}
}
