package rewrite_test

import (
	"context"
	_ "github.com/wslb/wslb/proxy/all"
	"github.com/wslb/wslb/proxy/rewrite"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// TestRewriteReadsLinesAsHAProxyDoes hides servers behind quotes, escapes,
// variables and conditional blocks: each is still a server, gets an echo
// backend, and its real address never reaches the rendered config.
func TestRewriteReadsLinesAsHAProxyDoes(t *testing.T) {
	t.Parallel()
	text := `defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fe
    bind :8080
    http-request set-header X-Note "a b # c ${WSLB_CANARY_SECRET}"
    default_backend be
backend be
    "server" a 10.9.0.1:80 check
    se"rv"er b 10.9.0.2:80
    server c "10.9.0.3${WSLB_X}:80"
.if defined(WSLB_X)
    se'rver' d 10.9.0.4:80
.else
    s\x65rver e 10.9.0.5:80
.endif
`
	dir := t.TempDir()
	src := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(src, []byte(text), 0o644))
	c, err := rewrite.Load(src)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b", "c", "d", "e"}, c.ServerIDs())
	res := renderLocal(t, c, t.TempDir())
	out := string(res.Config)
	require.NotContains(t, out, "10.9.0.")
	require.NotContains(t, out, "${")
	require.Contains(t, out, `X-Note a\ b\ \#\ c\ `)
	require.Contains(t, out, ".if defined(WSLB_X)")
	t.Run("haproxy -c", func(t *testing.T) {
		bin := testutil.NeedProxy(t, proxybin.HAProxy)
		path := filepath.Join(t.TempDir(), res.ConfigName)
		require.NoError(t, os.WriteFile(path, res.Config, 0o644))
		require.NoError(t, bin.Check(context.Background(), path), out)
	})
}

func TestAllowCodeLetsCodeThrough(t *testing.T) {
	t.Parallel()
	src := filepath.Join("testdata", "invalid", "nginx-load-module.conf")
	_, err := rewrite.Load(src)
	require.ErrorContains(t, err, "--allow-code")
	_, err = rewrite.LoadWith(src, rewrite.Options{AllowCode: true})
	require.ErrorContains(t, err, "the module is not installed here")
}

// TestNginxIncludeBomb includes one file ten times from a file included
// ten times, eight levels deep: a hundred million directives once
// inlined. Load must refuse it at once, naming an include line.
func TestNginxIncludeBomb(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := 0; i < 8; i++ {
		body := strings.Repeat("include b"+string(rune('0'+i+1))+".conf;\n", 10)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "b"+string(rune('0'+i))+".conf"), []byte(body), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b8.conf"), []byte(strings.Repeat("proxy_set_header A b;\n", 20)), 0o644))
	main := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(main, []byte("events {}\nhttp {\n  upstream u { server 10.0.0.1:80; }\n  server {\n    listen 80;\n    location / {\n      include b0.conf;\n      proxy_pass http://u;\n    }\n  }\n}\n"), 0o644))
	_, err := rewrite.Load(main)
	var rerr *rewrite.Error
	require.ErrorAs(t, err, &rerr)
	require.Contains(t, rerr.Msg, "include")
	require.NotZero(t, rerr.Line)
}

// TestNginxIncludesReadSafely: includes reach only regular files below
// the config's directory; a refusal names the include line.
func TestNginxIncludesReadSafely(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		inc   string
		setup func(dir string)
		want  string
	}{
		"fifo-glob": {"include *.inc;", func(d string) { require.NoError(t, syscall.Mkfifo(filepath.Join(d, "p.inc"), 0o644)) }, "a FIFO"},
		"devzero":   {"include /dev/zero;", nil, "outside"},
		"symlink":   {"include s.inc;", func(d string) { require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(d, "s.inc"))) }, "outside"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.setup != nil {
				tc.setup(dir)
			}
			text := "events {}\nhttp {\n    upstream app { server 10.0.0.1:80; }\n    server {\n        listen 80;\n        " + tc.inc + "\n        location / { proxy_pass http://app; }\n    }\n}\n"
			src := filepath.Join(dir, "nginx.conf")
			require.NoError(t, os.WriteFile(src, []byte(text), 0o644))
			_, err := rewrite.Load(src)
			var rerr *rewrite.Error
			require.ErrorAs(t, err, &rerr)
			require.Equal(t, 6, rerr.Line, "%v", err)
			require.Contains(t, rerr.Msg, tc.want)
			require.NotContains(t, err.Error(), "root:")
		})
	}
}

// TestProductionGlobalsAreDropped: TLS and server-state settings common in
// production configs are dropped from the run, not refused.
func TestProductionGlobalsAreDropped(t *testing.T) {
	t.Parallel()
	text := `global
    ssl-dh-param-file /etc/haproxy/dhparam.pem
    ssl-default-bind-ciphers ECDHE
    ssl-provider legacy
    server-state-file /var/lib/haproxy/state
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    load-server-state-from-file global
    no option http_proxy
frontend fe
    bind :8080
    tcp-request inspect-delay 5s
    tcp-request content accept if { req_ssl_hello_type 1 }
    tcp-request connection track-sc0 src
    http-request track-sc1 src table be
    http-request sc-inc-gpc0(1)
    http-request set-var(txn.host) req.hdr(host)
    default_backend be
backend be
    stick-table type ip size 1m expire 30m store gpc0,http_req_rate(10s)
    server a 10.9.0.1:80
`
	src := filepath.Join(t.TempDir(), "haproxy.cfg")
	require.NoError(t, os.WriteFile(src, []byte(text), 0o644))
	c, err := rewrite.Load(src)
	require.NoError(t, err)
	out := string(renderLocal(t, c, t.TempDir()).Config)
	for _, gone := range []string{"ssl-", "dhparam", "server-state", "10.9.0.1"} {
		require.NotContains(t, out, gone)
	}
}

// TestRootsAddToTheConfigDir: Options.Roots are allowed besides the
// config's own directory, for the config itself, its includes and the
// files the proxy reads; a file below neither is still refused.
func TestRootsAddToTheConfigDir(t *testing.T) {
	t.Parallel()
	dir, extra := t.TempDir(), t.TempDir()
	patterns := filepath.Join(extra, "ok.lst")
	require.NoError(t, os.WriteFile(patterns, []byte("10.0.0.0/8\n"), 0o644))
	outside := filepath.Join(t.TempDir(), "no.lst")
	require.NoError(t, os.WriteFile(outside, []byte("10.0.0.0/8\n"), 0o644))
	cfg := func(acl string) string {
		src := filepath.Join(dir, "haproxy.cfg")
		require.NoError(t, os.WriteFile(src, []byte("defaults\n    mode http\nfrontend fe\n    bind :8080\n    acl ok src -f "+acl+"\n    default_backend be\nbackend be\n    server a 10.0.0.1:80\n"), 0o644))
		return src
	}
	_, err := rewrite.LoadWith(cfg(patterns), rewrite.Options{Roots: []string{extra}})
	require.NoError(t, err)
	_, err = rewrite.LoadWith(cfg(outside), rewrite.Options{Roots: []string{extra}})
	var rerr *rewrite.Error
	require.ErrorAs(t, err, &rerr)
	require.Equal(t, 5, rerr.Line)
	require.Contains(t, rerr.Msg, "outside")

	ng := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(filepath.Join(extra, "users"), []byte("u:x\n"), 0o644))
	require.NoError(t, os.WriteFile(ng, []byte("events {}\nhttp {\n    upstream app { server 10.0.0.1:80; }\n    server {\n        listen 80;\n        auth_basic_user_file "+filepath.Join(extra, "users")+";\n        location / { proxy_pass http://app; }\n    }\n}\n"), 0o644))
	_, err = rewrite.LoadWith(ng, rewrite.Options{Roots: []string{extra}})
	require.NoError(t, err)
	_, err = rewrite.Load(ng)
	require.ErrorAs(t, err, &rerr)
	require.Equal(t, 6, rerr.Line)
}

// TestHAProxyFilesMustBeRegular: a file the proxy would read that is a
// FIFO (it would hang the proxy) is refused even next to the config.
func TestHAProxyFilesMustBeRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "503.http"), 0o644))
	src := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(src, []byte("defaults\n    mode http\n    errorfile 503 503.http\nfrontend fe\n    bind :8080\n    default_backend be\nbackend be\n    server a 10.0.0.1:80\n"), 0o644))
	_, err := rewrite.Load(src)
	var rerr *rewrite.Error
	require.ErrorAs(t, err, &rerr)
	require.Equal(t, 3, rerr.Line)
	require.Contains(t, rerr.Msg, "a FIFO")
}
