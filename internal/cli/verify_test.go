package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/sandbox"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/verify"
)

func TestVerifyUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"verify"}, "accepts 1 arg"},
		{"bad proxy", []string{"verify", "x.hcl", "--proxy", "envoy"}, "--proxy must be haproxy, nginx or all"},
		{"bad format", []string{"verify", "x.hcl", "--format", "xml"}, "--format must be text or json"},
		{"unknown driver", []string{"verify", "x.hcl", "--driver", "warp"}, `unknown driver "warp": want auto`},
		{"proxy image of an unknown proxy", []string{"verify", "x.hcl", "--proxy-image", "envoy=envoy:1.30"}, `unknown proxy "envoy"`},
		{"two bare proxy images", []string{"verify", "x.hcl", "--proxy-image", "a:1", "--proxy-image", "b:2"}, "two images for the proxy"},
		{"backend image without a command", []string{"verify", "x.hcl", "--driver", "docker", "--backend-image", "node:20"}, "give --backend-cmd too"},
		{"backend image off docker", []string{"verify", "x.hcl", "--backend-cmd", "node s.js {port}", "--backend-image", "node:20"}, "only --driver docker runs --backend-cmd from an image"},
		{"bad key", []string{"verify", "x.cfg", "--key", "cookie:"}, "want cookie:NAME"},
		{"key with injection", []string{"verify", "x.cfg", "--key", "header:X-A\nB"}, "want header:NAME"},
		{"unknown key mode", []string{"verify", "x.cfg", "--key", "ip"}, "want source, none"},
		{"idle without duration", []string{"verify", "x.hcl", "--scenarios", "idle"}, "needs --idle DURATION"},
		{"unknown scenario", []string{"verify", "x.hcl", "--scenarios", "stickyness"}, `unknown scenario "stickyness"`},
		{"no clients", []string{"verify", "x.hcl", "--clients", "0"}, "clients must be between 1 and"},
		{"too many clients", []string{"verify", "x.hcl", "--clients", "100000"}, "clients must be between 1 and"},
		{"stickiness needs reconnects", []string{"verify", "x.hcl", "--reconnects", "0"}, "stickiness needs at least one reconnect"},
		{"min stickiness above one", []string{"verify", "x.hcl", "--min-stickiness", "1.5"}, "min-stickiness must be between 0 and 1"},
		{"idle longer than timeout", []string{"verify", "x.hcl", "--idle", "5m", "--timeout", "1m"}, "does not fit in the timeout"},
		{"origin with a path", []string{"verify", "x.cfg", "--origin", "https://a.example/x"}, "an Origin has no path"},
		{"report in a missing directory", []string{"verify", "x.hcl", "--report", "/nonexistent/dir/r.html"}, "--report /nonexistent/dir/r.html: the directory"},
		{"bad proxy version", []string{"verify", "x.hcl", "--proxy-version", "haproxy=three"}, "--proxy-version haproxy=three"},
		{"proxy version of an unknown proxy", []string{"verify", "x.hcl", "--proxy-version", "envoy=1.30"}, `unknown proxy "envoy"`},
		{"two versions of one proxy", []string{"verify", "x.hcl", "--proxy-version", "nginx=1.26,nginx=1.30"}, "two versions for nginx"},
		{"unknown broker kind", []string{"verify", "x.hcl", "--broker-start", "zeromq"}, `unknown broker kind "zeromq"`},
		{"broker channel without broker", []string{"verify", "x.cfg", "--broker-channel", "wslb-{id}"}, "--broker-channel needs a broker"},
		{"bad broker channel", []string{"verify", "x.hcl", "--broker-start", "redis", "--broker-channel", "a*{id}"}, "redis channel"},
		{"fanout over socketio", []string{"verify", "x.hcl", "--client", "socketio", "--backend-cmd", "x", "--scenarios", "fanout"}, "not Socket.IO"},
		{"no messages to publish", []string{"verify", "x.hcl", "--publish", "0"}, "publish must be between 1 and 1000"},
		{"bare version for both proxies", []string{"verify", "x.hcl", "--proxy-version", "3.0"}, "name the proxy"},
		{"shard without results", []string{"verify", "x.hcl", "--shard", "0/4"}, "--shard 0/4 needs --results FILE"},
		{"shard index too large", []string{"verify", "x.hcl", "--shard", "4/4", "--results", "r.json"}, "the index must be between 0 and 3"},
		{"shard not a fraction", []string{"verify", "x.hcl", "--shard", "1of4", "--results", "r.json"}, "want INDEX/COUNT"},
		{"shard count zero", []string{"verify", "x.hcl", "--shard", "0/0", "--results", "r.json"}, "the count must be between 1 and"},
		{"shards too big for one machine", []string{"verify", "x.hcl", "--shard", "0/2", "--clients", "20000", "--results", "r.json"}, "more than one machine holds"},
		{"shard with socketio", []string{"verify", "x.hcl", "--shard", "0/2", "--client", "socketio", "--backend-cmd", "x {port}", "--results", "r.json"}, "--shard does not run with --client socketio"},
		{"results in a missing directory", []string{"verify", "x.hcl", "--results", "/nonexistent/dir/r.json"}, "--results /nonexistent/dir/r.json: the directory"},
		{"against an existing config", []string{"verify", "x.cfg", "--against", "127.0.0.1:80"}, "--against needs the topology"},
		{"against without a port", []string{"verify", "x.hcl", "--against", "gateway"}, "want the deployed proxy's HOST:PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.args...)
			require.Equal(t, ExitUsage, code, "stderr: %s", stderr)
			require.Contains(t, stderr, tt.want)
			require.Empty(t, stdout)
		})
	}
}

func TestVerifyInvalidInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	require.NoError(t, os.WriteFile(bad, []byte("listener \"x\" {\n  adress = \"0.0.0.0:80\"\n}\n"), 0o644))
	code, stdout, stderr := runCLI(t, "verify", bad)
	require.Equal(t, ExitInvalidInput, code)
	require.Empty(t, stdout)
	require.Contains(t, stderr, "bad.hcl:2:3: error: Unsupported argument")
	require.Contains(t, stderr, `Did you mean "address"?`)

	code, _, stderr = runCLI(t, "verify", filepath.Join(dir, "missing.hcl"))
	require.Equal(t, ExitInvalidInput, code, stderr)

	code, _, stderr = runCLI(t, "verify", filepath.Join(dir, "missing.cfg"))
	require.Equal(t, ExitInvalidInput, code, stderr)
	require.Contains(t, stderr, "missing.cfg")
}

func TestVerifyErrorMapping(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("look up: %w", &proxybin.NotFoundError{Kind: proxybin.Nginx}), ExitMissingEnviron},
		{&verify.InputError{Err: errors.New("no pool")}, ExitInvalidInput},
		{fmt.Errorf("run: %w", context.Canceled), ExitFailed},
		{errors.New("boom"), ExitFailed},
		{fmt.Errorf("check x: %w", &sandbox.UnavailableError{Reason: syscall.EPERM}), ExitMissingEnviron},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ExitCode(verifyError(tt.err)), tt.err.Error())
	}
	// The missing binary's message carries the command that installs it.
	err := verifyError(&proxybin.NotFoundError{Kind: proxybin.HAProxy})
	require.Contains(t, err.Error(), "sudo apt-get install -y haproxy")
}

func TestVerifyFlagCompletion(t *testing.T) {
	for flag, want := range map[string][]string{
		"--proxy":     {"haproxy", "nginx", "all"},
		"--format":    {"text", "json"},
		"--scenarios": verify.AllScenarios(),
	} {
		code, stdout, _ := runCLI(t, "__complete", "verify", "x.hcl", flag, "")
		require.Equal(t, ExitOK, code)
		for _, w := range want {
			require.Contains(t, stdout, w+"\n", flag)
		}
	}
	// The drivers come from the registry, each with its summary.
	code, stdout, _ := runCLI(t, "__complete", "verify", "x.hcl", "--driver", "")
	require.Equal(t, ExitOK, code)
	require.Contains(t, stdout, "loopback\tevery node a process on this host")
	require.Contains(t, stdout, "auto\tthe first that can run here of netns, loopback\n")
}

// A real run is covered end to end in verify and e2e; this one checks the
// CLI's wiring: the JSON report on stdout and exit 1 on a failed scenario.
func TestVerifyRoundRobinJSONExitsOne(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	html := filepath.Join(t.TempDir(), "report.html")
	code, stdout, stderr := runCLI(t, "verify", "../../verify/testdata/configs/roundrobin.haproxy.cfg",
		"--clients", "20", "--reconnects", "2", "--messages", "1", "--scenarios", "stickiness", "--format", "json",
		"--report", html)
	require.Equal(t, ExitFailed, code, stderr)
	require.Contains(t, stdout, `"passed": false`)
	require.Contains(t, stdout, `"name": "stickiness"`)
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	fi, err := os.Stat(html)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	require.Contains(t, string(page), "<html")
	require.Contains(t, string(page), "stickiness")
	left, err := filepath.Glob(filepath.Join(filepath.Dir(html), ".wslb-report-*"))
	require.NoError(t, err)
	require.Empty(t, left, "temporary report files left")
}

// A report that cannot be written exits 5, and what was there stays.
func TestWriteHTMLReportFailureExitsFive(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	require.NoError(t, os.MkdirAll(filepath.Join(path, "x"), 0o755))
	err := writeHTMLReport(path, &report.Summary{})
	require.Equal(t, ExitWriteFailed, ExitCode(err), "%v", err)
	require.DirExists(t, filepath.Join(path, "x"))

	ok := filepath.Join(dir, "ok.html")
	require.NoError(t, writeHTMLReport(ok, &report.Summary{}))
	fi, err := os.Stat(ok)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
}

// --cleanup removes the scratch dirs of killed runs, verify's and
// validate --exec's, and nothing else.
func TestVerifyCleanup(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for name, owner := range map[string]string{
		"wslb-verify-dead": "999999999 1",
		"wslb-exec-dead":   "999999999 1",
		"wslb-exec-other":  "",
	} {
		require.NoError(t, os.Mkdir(filepath.Join(tmp, name), 0o755))
		if owner != "" {
			require.NoError(t, os.WriteFile(filepath.Join(tmp, name, ".wslb-owner"), []byte(owner), 0o644))
		}
	}
	code, stdout, stderr := runCLI(t, "verify", "--cleanup")
	require.Equal(t, ExitOK, code, stderr)
	require.Contains(t, stdout, "removed "+filepath.Join(tmp, "wslb-verify-dead"))
	require.Contains(t, stdout, "removed "+filepath.Join(tmp, "wslb-exec-dead"))
	left, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Len(t, left, 1)
	require.Equal(t, "wslb-exec-other", left[0].Name())

	code, _, stderr = runCLI(t, "verify", "--cleanup", "x.hcl")
	require.Equal(t, ExitUsage, code, stderr)
}

// --proxy-version completes to the versions in the proxy cache.
func TestProxyVersionCompletion(t *testing.T) {
	cache := t.TempDir()
	root := filepath.Join(cache, "sid")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "usr", "sbin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, ".wslb-proxies"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "usr", "sbin", "nginx"), nil, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, ".wslb-proxies", "nginx.version"), []byte("nginx version: nginx/1.31.2\n"), 0o644))
	t.Setenv(proxybin.CacheEnv, cache)
	for _, cmd := range []string{"verify", "validate"} {
		code, stdout, _ := runCLI(t, "__complete", cmd, "x.hcl", "--proxy-version", "")
		require.Equal(t, ExitOK, code)
		require.Contains(t, stdout, "nginx=1.31\n", cmd)
	}
}

// A version that is not here, asked for by name or by a topology's
// target, is a missing environment (exit 4) naming `make proxies`, before
// anything starts.
func TestVerifyMissingVersionExitsFour(t *testing.T) {
	t.Setenv(proxybin.CacheEnv, filepath.Join(t.TempDir(), "empty"))
	topo := filepath.Join(t.TempDir(), "future.hcl")
	require.NoError(t, os.WriteFile(topo, []byte("target {\n  nginx = \"9.0\"\n}\n"+
		"listener \"l\" {\n  address = \"127.0.0.1:8080\"\n}\nroute \"r\" {\n  path = \"/\"\n  websocket = true\n  pool = \"p\"\n}\n"+
		"pool \"p\" {\n  affinity {\n    mode = \"source\"\n  }\n  server \"a\" {\n    address = \"127.0.0.1:9001\"\n  }\n}\n"), 0o644))
	for _, args := range [][]string{
		{"verify", "../../examples/chat.hcl", "--proxy", "nginx", "--proxy-version", "1.99"},
		{"verify", "../../examples/chat.hcl", "--proxy-version", "haproxy=9.9"},
		{"verify", topo, "--proxy", "nginx"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		require.Equal(t, ExitMissingEnviron, code, "%v\nstdout: %s\nstderr: %s", args, stdout, stderr)
		require.Contains(t, stderr, "is not available here", "%v", args)
		require.Contains(t, stderr, "make proxies", "%v", args)
	}
}

func TestVerifyFaultFlag(t *testing.T) {
	code, _, errOut := runCLI(t, "verify", "x.hcl", "--fault", "melt:ws1")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `--fault: fault "melt:ws1": unknown kind "melt"`)
	got, _ := faultCompletion(nil, nil, "")
	require.Contains(t, got, "pause:")
}

// --broker-channel rewires the broker a pool's broker block declares: it is
// checked against that broker's kind (no proxy runs, the channel is bad),
// not refused for want of --broker-start. Without a broker anywhere it is
// invalid input for that topology.
func TestVerifyBrokerChannelOfTopologyBroker(t *testing.T) {
	code, stdout, stderr := runCLI(t, "verify", "../../examples/fanout.hcl", "--broker-channel", "a*{id}")
	require.Equal(t, ExitInvalidInput, code, "stderr: %s", stderr)
	require.Contains(t, stderr, "redis channel prefix")
	require.NotContains(t, stderr, "needs a broker")
	require.Empty(t, stdout)

	code, _, stderr = runCLI(t, "verify", "../../examples/cookie.hcl", "--broker-channel", "wslb-{id}")
	require.Equal(t, ExitInvalidInput, code, "stderr: %s", stderr)
	require.Contains(t, stderr, "--broker-channel needs a broker")
}
