package compose_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/compose"
	"github.com/wslb/wslb/proxy/internal/targettest"
)

var run = targettest.Run

func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// `generate --target compose`, as the deprecated spelling, and
// `--proxy compose` write the same project, the first with a note naming
// the second; --check finds it up to date.
func TestGenerateWritesTheProject(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(t, "generate", "../../examples/chat.hcl", "--target", "compose", "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Equal(t, "wslb: --target is deprecated and will be removed in the next release; use --proxy compose\n", stderr)
	require.ElementsMatch(t, projectFiles, dirFiles(t, dir))
	for _, name := range projectFiles {
		require.Contains(t, stdout, "wrote "+filepath.Join(dir, name)+"\n")
		want, err := os.ReadFile(filepath.Join(goldenDir, "chat", "compose", name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), name)
	}

	code, _, stderr = run(t, "generate", "../../examples/chat.hcl", "--proxy", "compose", "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Empty(t, stderr)
	code, stdout, stderr = run(t, "generate", "../../examples/chat.hcl", "--proxy", "compose", "-o", dir, "--check")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, "docker-compose.yml: up to date")

	// Drift in any file of the project is found.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("edited\n"), 0o644))
	code, stdout, _ = run(t, "generate", "../../examples/chat.hcl", "--proxy", "compose", "-o", dir, "--check")
	require.Equal(t, cli.ExitFailed, code)
	require.Contains(t, stdout, "+# chat: the topology in Docker Compose")

	// To standard output, every file after its name.
	code, stdout, stderr = run(t, "generate", "../../examples/chat.hcl", "--proxy", "compose")
	require.Equal(t, cli.ExitOK, code, stderr)
	for _, name := range projectFiles {
		require.Contains(t, stdout, "# ---- "+name+"\n")
	}
}

// The project is written whole or not at all: when one file cannot be
// written, the others keep their old content.
func TestGenerateWritesAtomically(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte("old\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "README.md"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md", "keep"), nil, 0o644))
	code, _, stderr := run(t, "generate", "../../examples/chat.hcl", "--proxy", "compose", "-o", dir)
	require.Equal(t, cli.ExitWriteFailed, code, stderr)
	require.Contains(t, stderr, "nothing was written")
	old, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	require.NoError(t, err)
	require.Equal(t, "old\n", string(old))
	require.ElementsMatch(t, []string{"docker-compose.yml", "README.md"}, dirFiles(t, dir))
}

// Compose is a target of generate only: verify cannot run it, a plain
// generate does not write it, and a topology it cannot run is refused
// with the place.
func TestComposeIsConfigOnly(t *testing.T) {
	targettest.Target{Kind: compose.Kind, Name: "compose", File: compose.ComposeFile}.ConfigOnly(t)
	require.NotContains(t, proxy.ReadableNames(), "compose")

	dir := t.TempDir()
	code, _, stderr := run(t, "generate", "../../examples/chat.hcl", "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf"}, dirFiles(t, dir))

	code, _, stderr = run(t, "generate", "../../testdata/istio/kubernetes-service.hcl", "--proxy", "compose", "-o", t.TempDir())
	require.Equal(t, cli.ExitInvalidInput, code)
	require.Contains(t, stderr, "kubernetes-service.hcl:20:24: pool \"io\" names the Kubernetes Service")
	require.Contains(t, stderr, "Docker Compose needs the servers' addresses")
	require.True(t, strings.HasSuffix(strings.TrimSpace(stderr), "nothing was written"), stderr)
}
