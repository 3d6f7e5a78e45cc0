package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

func runValidateCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), append([]string{"validate"}, args...), IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// writeConfig writes a config into a temp dir and returns its path.
func writeConfig(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// onlyWarnings has a WebSocket location with the default 60s read
// timeout (WSLB104, a warning) and nothing worse.
const onlyWarnings = `worker_rlimit_nofile 40000;
worker_shutdown_timeout 30s;
events { worker_connections 16384; }
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 80;
        location /ws {
            proxy_pass http://127.0.0.1:4000;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
        }
    }
}
`

// withError lacks mode http before an Upgrade ACL (WSLB202, an error).
const withError = `global
    hard-stop-after 30s
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind :80
    acl ws hdr(Upgrade) -i websocket
    use_backend app if ws
backend app
    server a1 10.0.0.1:8080
`

func TestValidateFailOn(t *testing.T) {
	t.Parallel()
	warn := writeConfig(t, "nginx.conf", onlyWarnings)
	bad := writeConfig(t, "haproxy.cfg", withError)
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"warnings pass the default", []string{warn}, ExitOK},
		{"warnings fail --fail-on warning", []string{warn, "--fail-on", "warning"}, ExitFailed},
		{"warnings fail --fail-on info", []string{warn, "--fail-on", "info"}, ExitFailed},
		{"errors fail the default", []string{bad}, ExitFailed},
		{"errors pass --fail-on none", []string{bad, "--fail-on", "none"}, ExitOK},
		{"disabled rule does not count", []string{warn, "--fail-on", "warning", "--disable", "WSLB104"}, ExitOK},
		{"a higher threshold passes", []string{warn, "--fail-on", "warning", "--min-idle-timeout", "30s"}, ExitOK},
		{"--websocket all widens the checks", []string{writeConfig(t, "plain.conf", strings.Replace(onlyWarnings, "location /ws", "location /app", 1)), "--fail-on", "warning", "--websocket", "all"}, ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runValidateCLI(t, "", tt.args...)
			require.Equal(t, tt.want, code, "stdout: %s\nstderr: %s", stdout, stderr)
		})
	}
}

func TestValidateUsageAndInputErrors(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "nginx.conf", onlyWarnings)
	tests := []struct {
		name   string
		args   []string
		want   int
		stderr string
	}{
		{"no path", nil, ExitUsage, "at least one PATH"},
		{"bad format", []string{cfg, "--format", "yaml"}, ExitUsage, "--format"},
		{"bad fail-on", []string{cfg, "--fail-on", "critical"}, ExitUsage, "--fail-on"},
		{"bad kind", []string{cfg, "--kind", "envoy"}, ExitUsage, "--kind"},
		{"unknown rule", []string{cfg, "--disable", "WSLB999"}, ExitUsage, "WSLB999"},
		{"stdin without kind", []string{"-"}, ExitUsage, "--proxy"},
		{"bad nginx version", []string{cfg, "--nginx-version", "one"}, ExitUsage, "--nginx-version"},
		{"bad haproxy version", []string{cfg, "--haproxy-version", "2"}, ExitUsage, "--haproxy-version"},
		{"negative timeout", []string{cfg, "--timeout", "-1s"}, ExitUsage, "--timeout"},
		{"bad proxy version", []string{cfg, "--proxy-version", "nginx=1"}, ExitUsage, "--proxy-version nginx=1"},
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.conf")}, ExitInvalidInput, "nope.conf"},
		{"missing topology", []string{filepath.Join(t.TempDir(), "nope.hcl")}, ExitInvalidInput, "nope.hcl"},
		{"empty directory", []string{t.TempDir()}, ExitInvalidInput, "no HAProxy or NGINX config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runValidateCLI(t, "", tt.args...)
			require.Equal(t, tt.want, code, "stderr: %s", stderr)
			require.Contains(t, stderr, tt.stderr)
		})
	}
}

func TestValidateTextOutput(t *testing.T) {
	t.Parallel()
	bad := writeConfig(t, "haproxy.cfg", withError)
	code, stdout, _ := runValidateCLI(t, "", bad)
	require.Equal(t, ExitFailed, code)
	require.Contains(t, stdout, bad+":9:12: error WSLB202 ")
	require.Contains(t, stdout, "    fix: mode http")
	require.NotContains(t, stdout, "\x1b[", "no colour when stdout is not a terminal")
	require.Regexp(t, `\d+ findings \(1 error, .*\) in 1 file\n$`, stdout)
}

func TestValidateJSONAndStdin(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runValidateCLI(t, onlyWarnings, "-", "--kind", "nginx", "--format", "json")
	require.Equal(t, ExitOK, code, stderr)
	var doc struct {
		Findings []map[string]any `json:"findings"`
		Summary  map[string]int   `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	require.Len(t, doc.Findings, 1)
	f := doc.Findings[0]
	require.Equal(t, "WSLB104", f["rule"])
	require.Equal(t, "warning", f["severity"])
	require.Equal(t, "<stdin>", f["file"])
	require.EqualValues(t, 8, f["line"])
	require.Equal(t, 1, doc.Summary["warnings"])
}

func TestValidateInlineSuppression(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "nginx.conf", strings.Replace(onlyWarnings, "location /ws {", "location /ws { # wslb:ignore WSLB104", 1))
	code, stdout, _ := runValidateCLI(t, "", cfg, "--fail-on", "info")
	require.Equal(t, ExitOK, code, stdout)
	require.Contains(t, stdout, "no findings in 1 file")
}

func TestValidateDirectoryAndFormats(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "haproxy.cfg"), []byte(withError), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(onlyWarnings), 0o644))
	for _, format := range []string{"text", "json", "sarif", "github", "checkstyle"} {
		code, stdout, stderr := runValidateCLI(t, "", dir, "--format", format)
		require.Equal(t, ExitFailed, code, "%s: %s", format, stderr)
		require.Contains(t, stdout, "WSLB202", format)
		require.Contains(t, stdout, "WSLB104", format)
	}
	code, stdout, _ := runValidateCLI(t, "", dir, "--format", "github")
	require.Equal(t, ExitFailed, code)
	require.Contains(t, stdout, "::error file="+filepath.ToSlash(filepath.Join(dir, "haproxy.cfg"))+",line=9,col=12,title=WSLB202::")
}

func TestValidateTopology(t *testing.T) {
	t.Parallel()
	examples, err := filepath.Glob("../../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, ex := range examples {
		code, stdout, stderr := runValidateCLI(t, "", ex, "--fail-on", "warning")
		require.Equal(t, ExitOK, code, "%s\n%s\n%s", ex, stdout, stderr)
		require.Contains(t, stdout, "linted the configs generated from "+ex)
	}
}

func TestValidateListRules(t *testing.T) {
	t.Parallel()
	code, stdout, _ := runValidateCLI(t, "", "--list-rules")
	require.Equal(t, ExitOK, code)
	require.Contains(t, stdout, "WSLB101")
	require.Contains(t, stdout, "WSLB213")
}

// --exec with the proxy binary missing is a missing environment (exit 4),
// and the message says how to install it.
func TestValidateExecMissingBinary(t *testing.T) {
	tests := []struct{ kind, name, text string }{
		{"nginx", "nginx.conf", onlyWarnings},
		{"haproxy", "haproxy.cfg", withError},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Setenv("WSLB_"+strings.ToUpper(tt.kind), filepath.Join(t.TempDir(), "missing-"+tt.kind))
			code, _, stderr := runValidateCLI(t, "", writeConfig(t, tt.name, tt.text), "--exec", "--fail-on", "none")
			require.Equal(t, ExitMissingEnviron, code, "stderr: %s", stderr)
			require.Contains(t, stderr, "apt-get install -y "+tt.kind)
		})
	}
}

// --exec --proxy-version with a version that is not here is a missing
// environment too, and the message says what builds it.
func TestValidateExecMissingVersion(t *testing.T) {
	t.Setenv(proxybin.CacheEnv, filepath.Join(t.TempDir(), "empty-cache"))
	code, _, stderr := runValidateCLI(t, "", writeConfig(t, "nginx.conf", onlyWarnings), "--exec", "--proxy-version", "nginx=1.99", "--fail-on", "none")
	require.Equal(t, ExitMissingEnviron, code, "stderr: %s", stderr)
	require.Contains(t, stderr, "nginx 1.99 is not available")
	require.Contains(t, stderr, "make proxies")
}

// --exec --proxy-version runs the version asked for: a keyword HAProxy
// dropped in 2.7 (bind-process) passes 2.6 only, one NGINX added in 1.25.1
// (http2 on) fails 1.22 only.
func TestValidateExecOnEveryVersion(t *testing.T) {
	testutil.EachProxyVersion(t, func(t *testing.T, bin proxybin.Binary) {
		name := "nginx.conf"
		text := "events {}\nhttp {\n    server {\n        listen 127.0.0.1:8080;\n        http2 on;\n        location / { proxy_pass http://127.0.0.1:9; }\n    }\n}\n"
		rejected := !bin.Version.AtLeast(1, 25, 1)
		if bin.Kind == proxybin.HAProxy {
			name = "haproxy.cfg"
			text = "global\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:8080\n    bind-process 1\n    default_backend be\nbackend be\n    server s1 127.0.0.1:9 check\n"
			rejected = bin.Version.AtLeast(2, 7, 0)
		}
		v := fmt.Sprintf("%s=%d.%d", bin.Kind, bin.Version.Major, bin.Version.Minor)
		code, stdout, stderr := runValidateCLI(t, "", writeConfig(t, name, text), "--exec", "--proxy-version", v, "--fail-on", "none")
		if rejected {
			require.Equal(t, ExitInvalidInput, code, "stdout: %s\nstderr: %s", stdout, stderr)
			require.Contains(t, stdout, "WSLB002")
			return
		}
		require.Equal(t, ExitOK, code, "stdout: %s\nstderr: %s", stdout, stderr)
		require.NotContains(t, stdout, "WSLB002")
	})
}

// A config the real binary refuses to load exits 3, with its findings
// printed, whatever --fail-on says.
func TestValidateExecRejectedConfigExitsThree(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	t.Parallel()
	cfg := writeConfig(t, "haproxy.cfg", "global\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:8080\n    http-request bogus-action\n    default_backend be\nbackend be\n    server s1 app.prod.invalid:80 check\n")
	code, stdout, stderr := runValidateCLI(t, "", cfg, "--exec", "--fail-on", "none")
	require.Equal(t, ExitInvalidInput, code, "stdout: %s\nstderr: %s", stdout, stderr)
	require.Contains(t, stdout, "haproxy.cfg:9: error WSLB002")
	require.Contains(t, stderr, "refuses to load "+cfg)
}

func TestStoppedErrorCodes(t *testing.T) {
	require.NoError(t, stoppedError(context.Background(), "validate", time.Second))
	for sig, want := range map[os.Signal]int{os.Interrupt: 130, syscall.SIGTERM: 143} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(&SignalError{Signal: sig})
		err := stoppedError(ctx, "validate", time.Second)
		require.Equal(t, want, ExitCode(err))
		require.Contains(t, err.Error(), "no results were printed")
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), time.Nanosecond, errTimeout)
	defer cancel()
	<-ctx.Done()
	err := stoppedError(ctx, "validate", 2*time.Second)
	require.Equal(t, ExitTimeout, ExitCode(err))
	require.Contains(t, err.Error(), "--timeout 2s")
}

// runStoppable passes fn's result through unless a signal or the timeout
// ended the run, which then decides the exit code whatever fn returned.
func TestRunStoppable(t *testing.T) {
	boom := errors.New("boom")
	require.ErrorIs(t, runStoppable(context.Background(), "validate", 0, func(context.Context) error { return boom }), boom)
	require.NoError(t, runStoppable(context.Background(), "validate", time.Hour, func(context.Context) error { return nil }))

	err := runStoppable(context.Background(), "validate", time.Millisecond, func(ctx context.Context) error {
		<-ctx.Done()
		return boom
	})
	require.Equal(t, ExitTimeout, ExitCode(err), "%v", err)
	require.Contains(t, err.Error(), "--timeout 1ms")

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&SignalError{Signal: syscall.SIGTERM})
	err = runStoppable(ctx, "verify", 0, func(context.Context) error { return nil })
	require.Equal(t, 143, ExitCode(err), "%v", err)
}

// TestValidateBoundsInput: standard input is limited like a file, and a
// symlink out of the given directory is refused (exit 3) without its
// target being printed.
func TestValidateBoundsInput(t *testing.T) {
	code, _, errOut := runValidateCLI(t, strings.Repeat("# padding line\n", 17<<20/15+1), "-", "--kind", "haproxy")
	require.Equal(t, ExitInvalidInput, code)
	require.Contains(t, errOut, "standard input is larger than")

	dir := t.TempDir()
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "haproxy.cfg")))
	code, out, errOut := runValidateCLI(t, "", filepath.Join(dir, "haproxy.cfg"))
	require.Equal(t, ExitInvalidInput, code, errOut)
	require.Contains(t, errOut, "outside the directories")
	require.NotContains(t, out+errOut, "root:")
}

// --haproxy-version picks the row of the keyword table: nbproc is refused
// from HAProxy 2.5 on and accepted by 2.4.
func TestValidateHAProxyVersion(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, "haproxy.cfg", "global\n    nbproc 2\n    hard-stop-after 30s\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nbackend app\n    server a1 10.0.0.1:8080 check\n")
	code, stdout, stderr := runValidateCLI(t, "", cfg, "--haproxy-version", "2.6")
	require.Equal(t, ExitFailed, code, "stderr: %s", stderr)
	require.Contains(t, stdout, cfg+":2:5: error WSLB215 \"nbproc\" is not supported any more since HAProxy 2.5; the target is 2.6")
	code, stdout, stderr = runValidateCLI(t, "", cfg, "--haproxy-version", "2.4")
	require.Equal(t, ExitOK, code, "stdout: %s stderr: %s", stdout, stderr)
	require.NotContains(t, stdout, "WSLB215")
}
