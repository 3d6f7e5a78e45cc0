package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const minimalTopology = `
name = "mini"

listener "public" {
  address = "127.0.0.1:8080"
}

route "ws" {
  path      = "/ws"
  websocket = true
  pool      = "rt"
}

pool "rt" {
  affinity {
    mode = "source"
  }
  server "a" {
    address = "127.0.0.1:9001"
  }
  server "b" {
    address = "127.0.0.1:9002"
  }
}
`

func writeTopology(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "topology.hcl")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

// dirEntries lists the names in dir (nil when it does not exist).
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestGenerateWritesBothConfigs(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "generate", topo, "-o", out)
	require.Equal(t, ExitOK, code, stderr)
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf"}, dirEntries(t, out), "only the two configs, no temporary files")
	require.Contains(t, stdout, "wrote "+filepath.Join(out, "haproxy.cfg"))

	ha, err := os.ReadFile(filepath.Join(out, "haproxy.cfg"))
	require.NoError(t, err)
	require.Contains(t, string(ha), "balance source")
	ng, err := os.ReadFile(filepath.Join(out, "nginx.conf"))
	require.NoError(t, err)
	require.Contains(t, string(ng), "hash $remote_addr consistent;")

	// Regenerating gives the same bytes.
	code, _, stderr = runCLI(t, "generate", topo, "-o", out)
	require.Equal(t, ExitOK, code, stderr)
	again, err := os.ReadFile(filepath.Join(out, "haproxy.cfg"))
	require.NoError(t, err)
	require.Equal(t, ha, again)
}

func TestGenerateStdout(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	tests := []struct {
		name     string
		args     []string
		contains []string
		lacks    []string
	}{
		{"both", []string{"-o", "-"}, []string{"# ---- haproxy.cfg\n", "# ---- nginx.conf\n", "balance source", "hash $remote_addr consistent;"}, nil},
		{"default output is stdout", nil, []string{"# ---- haproxy.cfg\n", "# ---- nginx.conf\n"}, nil},
		{"haproxy only", []string{"--target", "haproxy"}, []string{"balance source"}, []string{"# ----", "hash $remote_addr"}},
		{"nginx only", []string{"--target", "nginx", "-o", "-"}, []string{"hash $remote_addr consistent;"}, []string{"# ----", "balance source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, append([]string{"generate", topo}, tt.args...)...)
			require.Equal(t, ExitOK, code, stderr)
			for _, s := range tt.contains {
				require.Contains(t, stdout, s)
			}
			for _, s := range tt.lacks {
				require.NotContains(t, stdout, s)
			}
		})
	}
}

func TestGenerateTargetWritesOneFile(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	out := t.TempDir()
	code, _, stderr := runCLI(t, "generate", topo, "-o", out, "--target", "nginx")
	require.Equal(t, ExitOK, code, stderr)
	require.Equal(t, []string{"nginx.conf"}, dirEntries(t, out))
}

func TestGenerateCheck(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	out := t.TempDir()

	// Nothing on disk yet: drift, and --check writes nothing.
	code, stdout, _ := runCLI(t, "generate", topo, "-o", out, "--check")
	require.Equal(t, ExitFailed, code)
	require.Contains(t, stdout, "--- /dev/null\n+++ "+filepath.Join(out, "haproxy.cfg")+"\n@@ -0,0 +1,")
	require.Empty(t, dirEntries(t, out))

	code, _, stderr := runCLI(t, "generate", topo, "-o", out)
	require.Equal(t, ExitOK, code, stderr)
	code, stdout, stderr = runCLI(t, "generate", topo, "-o", out, "--check")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "haproxy.cfg: up to date")
	require.Contains(t, stdout, "nginx.conf: up to date")

	// A hand edit is drift, shown as a unified diff naming the line.
	cfg := filepath.Join(out, "haproxy.cfg")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	edited := strings.Replace(string(b), "timeout tunnel 1h", "timeout tunnel 5m", 1)
	require.NotEqual(t, string(b), edited)
	require.NoError(t, os.WriteFile(cfg, []byte(edited), 0o644))
	code, stdout, stderr = runCLI(t, "generate", topo, "-o", out, "--check")
	require.Equal(t, ExitFailed, code)
	require.Contains(t, stdout, "--- "+cfg)
	require.Contains(t, stdout, "-    timeout tunnel 5m")
	require.Contains(t, stdout, "+    timeout tunnel 1h")
	require.NotContains(t, stdout, "nginx.conf", "the unchanged file has no diff")
	require.Contains(t, stderr, "1 of 2 configs")
	after, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.Equal(t, edited, string(after), "--check must not write")
}

func TestGenerateUsageErrors(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	tests := []struct {
		name string
		args []string
	}{
		{"no topology", []string{"generate"}},
		{"two topologies", []string{"generate", topo, topo}},
		{"bad target", []string{"generate", topo, "--target", "envoy"}},
		{"check to stdout", []string{"generate", topo, "--check", "-o", "-"}},
		{"output is a file", []string{"generate", topo, "-o", topo}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			require.Equal(t, ExitUsage, code, stderr)
		})
	}
}

func TestGenerateInvalidInputWritesNothing(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		stderr []string
	}{
		{
			name:   "misspelled attribute",
			src:    strings.Replace(minimalTopology, `address = "127.0.0.1:8080"`, `adress = "127.0.0.1:8080"`, 1),
			stderr: []string{"topology.hcl:5:", "adress", `Did you mean "address"?`},
		},
		{
			name:   "newline in a name",
			src:    strings.Replace(minimalTopology, `name = "mini"`, `name = "a\nb"`, 1),
			stderr: []string{"topology.hcl:2:", "Invalid name"},
		},
		{
			name:   "directive injected into a path",
			src:    strings.Replace(minimalTopology, `path      = "/ws"`, `path      = "/x; listen 1"`, 1),
			stderr: []string{"topology.hcl:9:", "Invalid path"},
		},
		{
			name: "brace in a cookie name",
			src: strings.Replace(minimalTopology, `    mode = "source"`, `    mode = "cookie"
    cookie = "a}b"`, 1),
			stderr: []string{"topology.hcl:17:", "Invalid cookie name"},
		},
		{
			name:   "route to a missing pool",
			src:    strings.Replace(minimalTopology, `pool      = "rt"`, `pool      = "nope"`, 1),
			stderr: []string{"topology.hcl:11:", "nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := writeTopology(t, tt.src)
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, "generate", topo, "-o", out)
			require.Equal(t, ExitInvalidInput, code, "stderr: %s", stderr)
			for _, s := range tt.stderr {
				require.Contains(t, stderr, s)
			}
			require.Contains(t, stderr, "nothing was written")
			require.Empty(t, stdout)
			require.Nil(t, dirEntries(t, out), "no output directory, no file")

			// Existing files are left alone too.
			existing := t.TempDir()
			old := filepath.Join(existing, "haproxy.cfg")
			require.NoError(t, os.WriteFile(old, []byte("old\n"), 0o644))
			code, _, _ = runCLI(t, "generate", topo, "-o", existing)
			require.Equal(t, ExitInvalidInput, code)
			b, err := os.ReadFile(old)
			require.NoError(t, err)
			require.Equal(t, "old\n", string(b))
			require.Equal(t, []string{"haproxy.cfg"}, dirEntries(t, existing))
		})
	}
}

func TestGenerateMissingFile(t *testing.T) {
	code, _, stderr := runCLI(t, "generate", filepath.Join(t.TempDir(), "nope.hcl"), "-o", t.TempDir())
	require.Equal(t, ExitInvalidInput, code)
	require.Contains(t, stderr, "nope.hcl")
}

func TestGenerateTargetCompletion(t *testing.T) {
	code, stdout, stderr := runCLI(t, "__complete", "generate", "x.hcl", "--target", "")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "haproxy\n")
	require.Contains(t, stdout, "nginx\n")
}

func TestGenerateWarningsDoNotStopGeneration(t *testing.T) {
	src := minimalTopology + `
security {
  allow_missing_origin = false
}
`
	topo := writeTopology(t, src)
	out := t.TempDir()
	code, _, stderr := runCLI(t, "generate", topo, "-o", out)
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stderr, ": warning: ")
	require.Contains(t, stderr, "topology.hcl:")
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf"}, dirEntries(t, out))
}

// A config that cannot be written exits 5 (not 1, which is --check
// drift), and neither file is replaced.
func TestGenerateWriteFailureExitsFiveAndWritesNothing(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	out := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(out, "nginx.conf"), []byte("old nginx\n"), 0o600))
	// haproxy.cfg is a directory with something in it: it cannot be
	// replaced by a file.
	require.NoError(t, os.MkdirAll(filepath.Join(out, "haproxy.cfg", "x"), 0o755))
	code, stdout, stderr := runCLI(t, "generate", topo, "-o", out)
	require.Equal(t, ExitWriteFailed, code, stderr)
	require.NotContains(t, stdout, "wrote")
	require.Contains(t, stderr, "nothing was written")
	b, err := os.ReadFile(filepath.Join(out, "nginx.conf"))
	require.NoError(t, err)
	require.Equal(t, "old nginx\n", string(b))
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf"}, dirEntries(t, out), "no temporary file is left")
}

// Regenerating keeps an existing file's mode.
func TestGenerateKeepsMode(t *testing.T) {
	topo := writeTopology(t, minimalTopology)
	out := t.TempDir()
	cfg := filepath.Join(out, "haproxy.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte("old\n"), 0o600))
	require.NoError(t, os.Chmod(cfg, 0o640))
	code, _, stderr := runCLI(t, "generate", topo, "-o", out)
	require.Equal(t, ExitOK, code, stderr)
	fi, err := os.Stat(cfg)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	fi, err = os.Stat(filepath.Join(out, "nginx.conf"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "a new file is 0644")
}

// Every command says a missing or unreadable input the same way: exit 3,
// "cannot read PATH: REASON".
func TestMissingInputSameInEveryCommand(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o644))
	for _, tc := range []struct{ path, reason string }{
		{filepath.Join(dir, "nope.hcl"), "no such file or directory"},
		{filepath.Join(dir, "nope.cfg"), "no such file or directory"},
		{filepath.Join(notDir, "x.hcl"), "not a directory"},
	} {
		for _, args := range [][]string{
			{"generate", tc.path, "-o", t.TempDir()},
			{"validate", tc.path},
			{"verify", tc.path},
		} {
			if args[0] == "generate" && !strings.HasSuffix(tc.path, ".hcl") {
				continue
			}
			code, _, stderr := runCLI(t, args...)
			require.Equal(t, ExitInvalidInput, code, "%v: %s", args, stderr)
			require.Equal(t, "Error: cannot read "+tc.path+": "+tc.reason+"\n", stderr, "%v", args)
		}
	}
}

func TestGenerateLoadJob(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"not istio":       {[]string{"--proxy", "haproxy", "--load-job"}, ExitUsage, "use it with --proxy istio"},
		"shards alone":    {[]string{"--proxy", "istio", "--shards", "3"}, ExitUsage, "--shards is a setting of --load-job"},
		"no shards":       {[]string{"--proxy", "istio", "--load-job", "--shards", "0"}, ExitUsage, "--shards must be between 1 and"},
		"too few clients": {[]string{"--proxy", "istio", "--load-job", "--load-clients", "2"}, ExitUsage, "--load-clients"},
		"bad against":     {[]string{"--proxy", "istio", "--load-job", "--load-against", "gateway"}, ExitUsage, "want the deployed proxy's HOST:PORT"},
		"bad image":       {[]string{"--proxy", "istio", "--load-job", "--load-image", "a b"}, ExitUsage, "want an image reference"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"generate", "../../examples/cookie.hcl"}, tc.args...)...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.want)
		})
	}
	code, _, stderr := runCLI(t, "generate", "../../examples/chat.hcl", "--proxy", "istio", "--load-job")
	require.Equal(t, ExitInvalidInput, code)
	require.Contains(t, stderr, "keys affinity on the source address")

	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "generate", "../../examples/cookie.hcl", "--proxy", "istio", "--load-job", "--shards", "4", "-o", dir)
	require.Equal(t, ExitOK, code, stderr)
	for _, name := range []string{"istio.yaml", "wslb-load-job.yaml", "wslb-load-merge.sh"} {
		require.FileExists(t, filepath.Join(dir, name))
		require.Contains(t, stdout, name)
	}
	want, err := os.ReadFile("../../testdata/golden/load-job/wslb-load-job.yaml")
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "wslb-load-job.yaml"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}
