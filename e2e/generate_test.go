package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// wslbIn runs wslb in dir and returns its exit code and output.
func wslbIn(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(wslbBin, args...)
	cmd.Dir = dir
	return runToEnd(t, cmd, 2*time.Minute)
}

// The diff generate --check prints is one patch(1) applies: to missing
// files, edited files and a file without a final newline, it brings the
// directory to what generate writes.
func TestGenerateCheckDiffAppliesWithPatch(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("needs patch")
	}
	topo, err := filepath.Abs("../examples/chat.hcl")
	require.NoError(t, err)
	dir := t.TempDir()
	code, _, stderr := wslbIn(t, dir, "generate", topo, "-o", "want")
	require.Equal(t, 0, code, stderr)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "out"), 0o755))

	apply := func() {
		t.Helper()
		code, diff, stderr := wslbIn(t, dir, "generate", topo, "-o", "out", "--check")
		require.Equal(t, 1, code, stderr)
		cmd := exec.Command("patch", "-p0", "--batch", "--forward")
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(diff)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "patch failed:\n%s\ndiff:\n%s", out, diff)
		for _, name := range []string{"haproxy.cfg", "nginx.conf"} {
			want, err := os.ReadFile(filepath.Join(dir, "want", name))
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(dir, "out", name))
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), name)
		}
		code, _, stderr = wslbIn(t, dir, "generate", topo, "-o", "out", "--check")
		require.Equal(t, 0, code, "up to date after the patch: %s", stderr)
	}

	apply() // both files missing

	ha := filepath.Join(dir, "out", "haproxy.cfg")
	b, err := os.ReadFile(ha)
	require.NoError(t, err)
	edited := strings.Replace(string(b), "timeout tunnel", "timeout  tunnel", 1) + "# a hand edit\n"
	require.NotEqual(t, string(b), edited)
	require.NoError(t, os.WriteFile(ha, []byte(edited), 0o644))
	ng := filepath.Join(dir, "out", "nginx.conf")
	b, err = os.ReadFile(ng)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ng, bytes.TrimSuffix(b, []byte("\n")), 0o644))
	apply() // an edited file and one without its final newline
}

// A config the proxy refuses to load exits 3 and cites the user's file
// and line, not the rewritten copy's.
func TestVerifyRefusedConfigCitesUserLine(t *testing.T) {
	for _, tc := range []struct {
		kind, name, text, want string
	}{
		{"haproxy", "site.haproxy.cfg", "global\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    timeout tunnel 1h\n\nfrontend fe\n    bind :8080\n    timeout client 30x\n    default_backend be\n\nbackend be\n    balance source\n    hash-type consistent\n    server s1 10.0.0.1:8080 check\n    server s2 10.0.0.2:8080 check\n",
			"site.haproxy.cfg:11] : unexpected character 'x' in 'timeout client'"},
		{"nginx", "site.nginx.conf", "events { worker_connections 1024; }\nhttp {\n    upstream app {\n        hash $remote_addr consistent;\n        server 10.0.0.1:8080;\n        server 10.0.0.2:8080;\n    }\n    server {\n        listen 8080;\n        location /ws {\n            proxy_pass http://app;\n            proxy_http_version 1.1;\n            proxy_set_header Upgrade $http_upgrade;\n            proxy_set_header Connection \"upgrade\";\n            proxy_read_timeout 1x;\n        }\n    }\n}\n",
			"site.nginx.conf:15"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			testutil.NeedProxy(t, proxybin.Kind(tc.kind))
			cfg := filepath.Join(t.TempDir(), tc.name)
			require.NoError(t, os.WriteFile(cfg, []byte(tc.text), 0o644))
			r := start(t, "verify", cfg, "--clients", "5")
			code := r.wait(t, time.Minute)
			require.Equal(t, 3, code, "stderr:\n%s", r.stderr.String())
			require.Contains(t, r.stderr.String(), tc.kind+" refuses to load "+cfg)
			require.Contains(t, r.stderr.String(), tc.want)
			require.NotContains(t, r.stderr.String(), "wslb-verify-", "no scratch path in the message")
			left, err := filepath.Glob(filepath.Join(r.tmp, "wslb-*"))
			require.NoError(t, err)
			require.Empty(t, left)
		})
	}
}
