package validate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/nginx"
	"github.com/wslb/wslb/validate/rules"
)

func lintText(t *testing.T, name string, kind Kind, text string, opts Options) Result {
	t.Helper()
	res, err := Lint(context.Background(), []Source{{Name: name, Kind: kind, Bytes: []byte(text)}}, opts)
	require.NoError(t, err)
	return res
}

func rulesAt(res Result) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Rule+"@"+strconv.Itoa(f.Line))
	}
	return out
}

const wsLocation = `worker_rlimit_nofile 40000;
worker_shutdown_timeout 30s;
events { worker_connections 16384; }
http {
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    server {
        listen 80;
        location /ws {%s
            proxy_pass http://127.0.0.1:1;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;%s
            proxy_read_timeout 30s;%s
        }
    }
}
`

func TestSuppressionPlaces(t *testing.T) {
	tests := []struct {
		name       string
		block      string
		before     string
		line       string
		suppressed bool
	}{
		{"none", "", "", "", false},
		{"on the line", "", "", " # wslb:ignore WSLB104", true},
		{"other rule on the line", "", "", " # wslb:ignore WSLB105", false},
		{"all rules on the line", "", "", " # wslb:ignore", true},
		{"comment-only line above", "", "\n            # wslb:ignore WSLB104", "", true},
		{"trailing comment of the previous directive", "", " # wslb:ignore WSLB104", "", false},
		{"block opening line", " # wslb:ignore WSLB104,WSLB103", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := strings.Replace(wsLocation, "{%s", "{"+tt.block, 1)
			text = strings.Replace(text, ";%s\n            proxy_read", ";"+tt.before+"\n            proxy_read", 1)
			text = strings.Replace(text, "30s;%s", "30s;"+tt.line, 1)
			res := lintText(t, "n.conf", Nginx, text, Options{})
			has := false
			for _, f := range res.Findings {
				has = has || f.Rule == "WSLB104"
			}
			require.Equal(t, !tt.suppressed, has, "%s\n%s", text, describe(res))
		})
	}
}

func TestSuppressFileAndHAProxySection(t *testing.T) {
	cfg := `# wslb:ignore-file WSLB208
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
backend ws # wslb:ignore WSLB201
    server a 127.0.0.1:1
backend ws2
    server a 127.0.0.1:1
`
	res := lintText(t, "h.cfg", HAProxy, cfg, Options{})
	require.Equal(t, []string{"WSLB201@9"}, rulesAt(res))
}

func TestDisableAndUnknownRule(t *testing.T) {
	text := strings.NewReplacer("%s", "").Replace(wsLocation)
	res := lintText(t, "n.conf", Nginx, text, Options{Disable: []string{"wslb104"}})
	require.Empty(t, res.Findings)
	_, err := Lint(context.Background(), []Source{{Name: "n.conf", Kind: Nginx, Bytes: []byte(text)}}, Options{Disable: []string{"WSLB999"}})
	require.ErrorContains(t, err, "WSLB999")
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name, text string
		want       Kind
		ok         bool
	}{
		{"haproxy.cfg", "", HAProxy, true},
		{"/etc/nginx/sites-enabled/default", "server {\n listen 80;\n}\n", Nginx, true},
		{"lb.cfg", "frontend x\n  bind :80\n", HAProxy, true},
		{"site", "upstream u {\n server a:1;\n}\n", Nginx, true},
		{"x.conf", "", Nginx, true},
		{"notes.txt", "hello", "", false},
	}
	for _, tt := range tests {
		got, ok := Detect(tt.name, []byte(tt.text))
		require.Equal(t, tt.ok, ok, tt.name)
		require.Equal(t, tt.want, got, tt.name)
	}
	_, err := Lint(context.Background(), []Source{{Name: "notes.txt", Bytes: []byte("hello")}}, Options{})
	var uk *UnknownKindError
	require.ErrorAs(t, err, &uk)
}

func TestDirectoryLintsIncludedFilesOnce(t *testing.T) {
	srcs, err := Collect([]string{"../testdata/corpus/include-style"})
	require.NoError(t, err)
	require.Len(t, srcs, 2)
	res, err := Lint(context.Background(), srcs, Options{})
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, f := range res.Findings {
		key := f.File + "|" + f.Rule + "|" + strconv.Itoa(f.Line)
		require.False(t, seen[key], "duplicate finding %s", key)
		seen[key] = true
		// Linted through nginx.conf, chat.conf inherits http's values:
		// no WSLB102/WSLB104 on its location.
		require.NotContains(t, []string{"WSLB102", "WSLB104"}, f.Rule, describe(res))
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Lint(context.Background(), []Source{{Name: filepath.Join(t.TempDir(), "x.cfg")}}, Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = Collect([]string{filepath.Join(t.TempDir(), "nope")})
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestHostHelpers(t *testing.T) {
	for in, want := range map[string]string{"app1:3000": "app1", "app1": "app1", "10.0.0.1:80": "10.0.0.1", "[::1]:80": "", "::1": "", "unix:/run/x.sock": "", "abns@x": "", "ipv4@app:80": "", "/run/x": "", "${HOST}:80": "", "app:8000-8010": "app"} {
		host, _ := proxy.AddrHost(in)
		require.Equal(t, want, host, in)
	}
	for in, want := range map[string]string{"http://api:4000/x": "api", "https://api": "api", "grpc://g:50051": "g", "api:9000": "api", "http://unix:/run/x.sock:/": "", "http://$up": ""} {
		host, at := proxy.URLHost(in)
		require.Equal(t, want, host, in)
		if host != "" {
			require.Equal(t, host, in[at:at+len(host)], in)
		}
	}
	for _, ok := range []string{"app1", "app1.prod.invalid", "a_b.example.", "10"} {
		require.True(t, isHostName(ok), ok)
	}
	for _, bad := range []string{"<host>", "{{ .Host }}", "-x", "a..b", "h\\x", ""} {
		require.False(t, isHostName(bad), bad)
	}
}

// Only host names in address positions are stubbed: never a keyword where
// the address was left out, a placeholder, a server's name equal to its
// host, or an upstream's name in proxy_pass.
func TestScratchCopyStubsOnlyHostNames(t *testing.T) {
	dir := t.TempDir()
	text := "global\n" +
		"backend app\n" +
		"    server app1 app1:3000 check\n" +
		"    server s2 check\n" +
		"    server s3 <upstream_host>:80 check\n" +
		"    server s4 \"quoted.example:80\" check\n" +
		"    server-template web 1-3 web.example:80 check\n" +
		"    server s5 10.0.0.5:80 check\n" +
		"    server s6 e\\x73c.example:80 check\n"
	hsrc := Source{Name: "h.cfg", Kind: HAProxy, Bytes: []byte(text)}
	files, main, st, err := scratchCopy(hsrc, execOf(hsrc), dir)
	require.NoError(t, err)
	require.Equal(t, files["h.cfg"], main)
	out, err := os.ReadFile(main)
	require.NoError(t, err)
	require.Equal(t, "global\n"+
		"backend app\n"+
		"    server app1 127.0.0.1:3000 check\n"+
		"    server s2 check\n"+
		"    server s3 <upstream_host>:80 check\n"+
		"    server s4 \"127.0.0.1:80\" check\n"+
		"    server-template web 1-3 127.0.0.1:80 check\n"+
		"    server s5 10.0.0.5:80 check\n"+
		"    server s6 e\\x73c.example:80 check\n", string(out))
	require.Equal(t, []string{"app1", "quoted.example", "web.example"}, st.replaced)
	require.Equal(t, []string{"<upstream_host>:80", "check"}, st.kept)
	require.Equal(t, []string{"esc.example"}, st.unplaced, "not rewritten where it is spelt with an escape")
	notes := st.notes("h.cfg")
	require.Len(t, notes, 3)
	require.Contains(t, notes[0], "does not depend on DNS")
	require.Contains(t, notes[1], "not host names: <upstream_host>:80, check")

	ntext := "events {}\nhttp {\n" +
		"    upstream backend { server api.internal:8080 weight=2; server backup; server unix:/run/a.sock; }\n" +
		"    server {\n" +
		"        listen 80;\n" +
		"        location / { proxy_pass http://backend; }\n" +
		"        location /a { proxy_pass   \"http://auth.internal:9000/x\"; }\n" +
		"        location /b { proxy_pass http://$target; }\n" +
		"        location /c { proxy_pass http://<backend_host>:80; }\n" +
		"    }\n}\n"
	npath := filepath.Join(t.TempDir(), "nginx.conf")
	require.NoError(t, os.WriteFile(npath, []byte(ntext), 0o644))
	require.Empty(t, nginx.Parse(npath, nil).Problems)
	dir = t.TempDir()
	nsrc := Source{Name: npath, Kind: Nginx, Bytes: []byte(ntext)}
	_, main, st, err = scratchCopy(nsrc, execOf(nsrc), dir)
	require.NoError(t, err)
	out, err = os.ReadFile(main)
	require.NoError(t, err)
	require.Contains(t, string(out), "server 127.0.0.1:8080 weight=2; server backup; server unix:/run/a.sock;")
	require.Contains(t, string(out), "proxy_pass http://backend;")
	require.Contains(t, string(out), `proxy_pass   "http://127.0.0.1:9000/x";`)
	require.Contains(t, string(out), "proxy_pass http://$target;")
	require.Equal(t, []string{"api.internal", "auth.internal"}, st.replaced)
	require.Equal(t, []string{"backup", "http://<backend_host>:80"}, st.kept)
}

func TestCheckFindingsFromBinaryOutput(t *testing.T) {
	back := map[string]string{"/tmp/wslb-exec-1/haproxy.cfg": "deploy/haproxy.cfg"}
	out := `[NOTICE]   (1) : haproxy version is 2.6.12
[ALERT]    (1) : config : parsing [/tmp/wslb-exec-1/haproxy.cfg:18] : 'server app/a1' : unknown keyword 'chek'.
[ALERT]    (1) : config : Error(s) found in configuration file : /tmp/wslb-exec-1/haproxy.cfg`
	fs := checkFindings("deploy/haproxy.cfg", HAProxy, out, back)
	require.Len(t, fs, 1)
	require.Equal(t, "deploy/haproxy.cfg", fs[0].File)
	require.Equal(t, 18, fs[0].Line)
	require.Contains(t, fs[0].Message, "unknown keyword 'chek'")
	require.NotContains(t, fs[0].Message, "/tmp/")

	back = map[string]string{"/tmp/s/nginx.conf": "nginx.conf", "/tmp/s/conf.d/a.conf": "conf.d/a.conf"}
	out = `nginx: [emerg] "proxy_read_timeout" directive invalid value in /tmp/s/conf.d/a.conf:9
nginx: configuration file /tmp/s/nginx.conf test failed`
	fs = checkFindings("nginx.conf", Nginx, out, back)
	require.Len(t, fs, 1)
	require.Equal(t, "conf.d/a.conf", fs[0].File)
	require.Equal(t, 9, fs[0].Line)

	fs = checkFindings("nginx.conf", Nginx, "something odd happened", back)
	require.Len(t, fs, 1)
	require.Equal(t, 1, fs[0].Line)
}

func TestExecStubsUnresolvableHosts(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	t.Parallel()
	res, err := Lint(context.Background(), []Source{{Name: "../testdata/rules/WSLB002/pass_haproxy_stubbed.cfg"}}, Options{Exec: true})
	require.NoError(t, err)
	for _, f := range res.Findings {
		require.NotEqual(t, "WSLB002", f.Rule, f.Message)
	}
	require.Len(t, res.Notes, 1)
	require.Contains(t, res.Notes[0], "app1.prod.invalid, app2.prod.invalid, app3.prod.invalid")
	require.Contains(t, res.Notes[0], "127.0.0.1")
	b, err := os.ReadFile("../testdata/rules/WSLB002/pass_haproxy_stubbed.cfg")
	require.NoError(t, err)
	require.Contains(t, string(b), "app1.prod.invalid", "the user's file is never modified")
}

func TestExecMissingBinary(t *testing.T) {
	opts := Options{Exec: true, Binaries: func(k Kind) (proxybin.Binary, error) { return proxybin.Binary{}, &proxybin.NotFoundError{Kind: k} }}
	_, err := Lint(context.Background(), []Source{{Name: "h.cfg", Kind: HAProxy, Bytes: []byte("global\n")}}, opts)
	var nf *proxybin.NotFoundError
	require.ErrorAs(t, err, &nf)
}

func TestBrokenNginxReportsOnlyTheParseError(t *testing.T) {
	for _, name := range []string{"fire_nginx_unbalanced.conf", "fire_nginx_extra_brace.conf"} {
		res, err := Lint(context.Background(), []Source{{Name: "../testdata/rules/WSLB001/" + name}}, Options{})
		require.NoError(t, err)
		require.Len(t, res.Findings, 1, describe(res))
		require.Equal(t, "WSLB001", res.Findings[0].Rule)
	}
}

// Keywords the rules inspect, written bare, must give findings, never a
// panic: the rules index raw lines, and config-parser does not stop at them.
func TestHAProxyKeywordsWithoutArguments(t *testing.T) {
	keywords := []string{
		"cookie", "server", "balance", "hash-type", "timeout", "acl", "bind",
		"use_backend", "default_backend", "http-request", "tcp-request",
		"option", "mode", "stick", "default-server", "hard-stop-after",
	}
	for _, kw := range keywords {
		t.Run(kw, func(t *testing.T) {
			t.Parallel()
			text := "global\n    " + kw + "\ndefaults\n    mode http\n    " + kw +
				"\nfrontend fe\n    bind :80\n    " + kw + "\n    default_backend be\n" +
				"backend be\n    " + kw + "\n    server s1 127.0.0.1:80\n" +
				"listen both\n    bind :81\n    " + kw + "\n"
			res := lintText(t, "haproxy.cfg", HAProxy, text, Options{})
			require.NotEmpty(t, res.Findings)
		})
	}
}

// A directory walk picks *.cfg, *.conf and extensionless haproxy*/nginx*
// files, not the certificates, units and notes that sit beside them.
func TestCollectPicksOnlyConfigs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"haproxy.cfg", "site.conf", "nginx", "haproxy-edge", "haproxy.pem", "haproxy.service", "nginx.md", "README.md"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	srcs, err := Collect([]string{dir})
	require.NoError(t, err)
	var names []string
	for _, s := range srcs {
		names = append(names, filepath.Base(s.Name))
	}
	require.Equal(t, []string{"haproxy-edge", "haproxy.cfg", "nginx", "site.conf"}, names)
}

// YAML files in a directory are linted when their content is Istio's:
// a Helm values file or a CI workflow beside them is left alone, also
// with --proxy naming another proxy.
func TestCollectLintsOnlyIstioYAML(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"mesh.yaml":     "apiVersion: networking.istio.io/v1\nkind: VirtualService\nspec:\n  http:\n  - match: [{uri: {prefix: /ws}}]\n    timeout: 5s\n",
		"values.yaml":   "replicas: 3\nimage: {tag: latest}\n",
		"ci.yml":        "on: push\njobs: {lint: {runs-on: ubuntu-latest}}\n",
		"haproxy.cfg":   "frontend f\n  bind :80\n",
		"templates.yml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{ .Values.x }}\n",
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	srcs, err := Collect([]string{dir})
	require.NoError(t, err)
	res, err := Lint(context.Background(), srcs, Options{})
	require.NoError(t, err)
	var names []string
	for _, f := range res.Files {
		names = append(names, filepath.Base(f))
	}
	require.Equal(t, []string{"haproxy.cfg", "mesh.yaml"}, names)
	var yaml []string
	for _, f := range res.Findings {
		if filepath.Base(f.File) == "mesh.yaml" {
			yaml = append(yaml, f.Rule)
		}
	}
	require.Equal(t, []string{"WSLB300"}, yaml)

	for i := range srcs {
		srcs[i].Kind = HAProxy
	}
	res, err = Lint(context.Background(), srcs, Options{})
	require.NoError(t, err)
	require.Len(t, res.Files, 1, "only haproxy.cfg is read as HAProxy")
}

// TestExecRefusesCode checks that --exec never starts a binary on a
// config that runs code, whatever is disabled or suppressed, unless
// AllowCode is set.
func TestExecRefusesCode(t *testing.T) {
	for _, tt := range []struct {
		kind Kind
		text string
		line int
	}{
		{HAProxy, "global\n  # wslb:ignore WSLB250\n  \"lua-load\" /tmp/x.lua\n", 3},
		{HAProxy, "global\n  maxconn 10\nprogram p\n  command /bin/true\n", 3},
		{Nginx, "events {}\nhttp {\n  js_import /tmp/x.js;\n}\n", 3},
	} {
		ran := false
		opts := Options{Exec: true, Disable: []string{"WSLB150", "WSLB250"}, Binaries: func(k Kind) (proxybin.Binary, error) {
			ran = true
			return proxybin.Binary{}, errors.New("no binary in this test")
		}}
		_, err := Lint(context.Background(), []Source{{Name: "x", Kind: tt.kind, Bytes: []byte(tt.text)}}, opts)
		var ce *CodeError
		require.ErrorAs(t, err, &ce, tt.text)
		require.Equal(t, tt.line, ce.Line)
		require.False(t, ran, "the binary must not run")

		opts.AllowCode = true
		_, err = Lint(context.Background(), []Source{{Name: "x", Kind: tt.kind, Bytes: []byte(tt.text)}}, opts)
		require.NotErrorAs(t, err, &ce)
		require.True(t, ran, "with AllowCode the check runs")
	}
}

// execOf is what --exec runs on src, as its kind's linter says.
func execOf(src Source) *rules.Exec {
	return rules.LinterFor(src.Kind).Lint(context.Background(), rules.Input{File: src.Name, Text: src.Bytes, Open: os.ReadFile}).Exec
}
