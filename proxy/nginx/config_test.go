package nginx

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func memOpener(files map[string]string) Opener {
	return func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestIncludesInlineWithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sites"), 0o755))
	require.NoError(t, os.WriteFile(main, []byte("events {}\nhttp {\n    proxy_read_timeout 300s;\n    include sites/*.conf;\n}\n"), 0o644))
	// Relative includes resolve from the main file's directory, even
	// from inside an included file (as nginx does).
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sites", "a.conf"), []byte("server {\n    listen 80;\n    include snippets/ws.conf;\n}\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "snippets"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "snippets", "ws.conf"), []byte("# ws\nlocation /ws {\n    proxy_pass http://127.0.0.1:1;\n}\n"), 0o644))

	c := Parse(main, nil)
	require.Empty(t, c.Problems)
	require.False(t, c.Snippet)
	locs := c.All("location")
	require.Len(t, locs, 1)
	loc := locs[0]
	require.Equal(t, filepath.Join(dir, "snippets", "ws.conf"), loc.File)
	require.Equal(t, 2, loc.Line)
	require.Equal(t, 1, loc.Column)
	require.Equal(t, "server", loc.Parent.Name, "the include is inlined where it stands")
	rt := loc.EffectiveOne("proxy_read_timeout")
	require.NotNil(t, rt, "http-level value inherited across files")
	require.Equal(t, main, rt.File)
	require.Len(t, c.Files(), 3)
	require.Len(t, c.Comments, 1)
}

func TestProxySetHeaderInheritance(t *testing.T) {
	c := Parse("nginx.conf", memOpener(map[string]string{"nginx.conf": `events {}
http {
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
    server {
        listen 80;
        location /a { proxy_pass http://x; }
        location /b { proxy_pass http://x; proxy_set_header X-Real-IP $remote_addr; }
    }
}
`}))
	require.Empty(t, c.Problems)
	locs := c.All("location")
	a, from := locs[0].Effective("proxy_set_header")
	require.Len(t, a, 2)
	require.Equal(t, "http", from.Name)
	b, from := locs[1].Effective("proxy_set_header")
	require.Len(t, b, 1, "a block with its own proxy_set_header inherits none")
	require.Equal(t, locs[1], from)
}

func TestSnippetAndProblems(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		snippet bool
		line    int
		msg     string
	}{
		{"conf.d snippet", "server { listen 80; location / { proxy_pass http://x; } }\n", true, 0, ""},
		{"unknown directive", "events {}\nhttp {\n  proxy_pas http://x;\n}\n", false, 3, `unknown directive "proxy_pas"`},
		{"missing semicolon", "events {}\nhttp {\n  server {\n    location / {\n      proxy_pass http://x\n      proxy_read_timeout 1h;\n    }\n  }\n}\n", false, 5, "invalid number of arguments"},
		{"unclosed block", "events {}\nhttp {\n  server {\n", false, 3, "unexpected end of file"},
		{"stray brace", "events {}\n}\n", false, 2, `unexpected "}"`},
		{"no events", "http {\n}\n", false, 1, `no "events" section`},
		{"wrong context", "events {}\nhttp { location / { } }\n", false, 2, "not allowed here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Parse("n.conf", memOpener(map[string]string{"n.conf": tt.text}))
			require.Equal(t, tt.snippet, c.Snippet)
			if tt.msg == "" {
				require.Empty(t, c.Problems)
				return
			}
			require.NotEmpty(t, c.Problems)
			require.Equal(t, tt.line, c.Problems[0].Line, "%+v", c.Problems)
			require.Contains(t, c.Problems[0].Message, tt.msg)
			require.NotContains(t, c.Problems[0].Message, "n.conf:", "file and line are fields, not message text")
		})
	}
}

func TestMissingInclude(t *testing.T) {
	c := Parse("n.conf", memOpener(map[string]string{"n.conf": "events {}\nhttp {\n  include missing.conf;\n}\n"}))
	require.NotEmpty(t, c.Problems)
	require.Equal(t, 3, c.Problems[0].Line)
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"60": time.Minute, "90s": 90 * time.Second, "1h": time.Hour, "1h30m": 90 * time.Minute, "500ms": 500 * time.Millisecond, "1d": 24 * time.Hour} {
		got, ok := ParseDuration(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "x", "10q", "1h-"} {
		_, ok := ParseDuration(bad)
		require.False(t, ok, bad)
	}
}

func TestTopLevelNames(t *testing.T) {
	got := topLevelNames([]byte("# http {\nuser x; events { worker_connections 1; }\nmap $a $b { 'http' 1; \"}\" 2; }\nhttp {\n server { }\n}\n"))
	require.Equal(t, map[string]bool{"user": true, "events": true, "map": true, "http": true}, got)
}

func TestSnippetIncludesFromConfPrefix(t *testing.T) {
	// Debian layout: sites-enabled/site includes snippets/ relative to
	// /etc/nginx, not to sites-enabled.
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sites-enabled"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "snippets"), 0o755))
	site := filepath.Join(root, "sites-enabled", "site")
	require.NoError(t, os.WriteFile(site, []byte("server {\n    listen 80;\n    include snippets/ws.conf;\n}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "snippets", "ws.conf"), []byte("location /ws {\n    proxy_pass http://127.0.0.1:1;\n}\n"), 0o644))
	c := Parse(site, nil)
	require.Empty(t, c.Problems)
	locs := c.All("location")
	require.Len(t, locs, 1)
	require.Equal(t, filepath.Join(root, "snippets", "ws.conf"), locs[0].File, "findings point at the file read")
	require.Contains(t, c.Files(), filepath.Join(root, "snippets", "ws.conf"))
}

// Several directives on one line each get their own column, even when a
// name also appears inside an earlier argument or directive.
func TestColumnsOnOneLine(t *testing.T) {
	line := "http { upstream ip_hash_pool { ip_hash; server 127.0.0.1:1; } server { listen 80; location /hash { proxy_pass http://ip_hash_pool; } } }"
	c := Parse("nginx.conf", memOpener(map[string]string{"nginx.conf": "events {}\n" + line + "\n"}))
	require.Empty(t, c.Problems)
	col := func(s string) int { return strings.Index(line, s) + 1 }
	tests := []struct {
		name string
		node *Node
		want int
	}{
		{"ip_hash", c.All("ip_hash")[0], col("ip_hash;")},
		{"upstream server", c.All("upstream")[0].Own("server")[0], col("server 127")},
		{"http server", c.Top("http")[0].Own("server")[0], col("server {")},
		{"location", c.All("location")[0], col("location")},
		{"proxy_pass", c.All("proxy_pass")[0], col("proxy_pass")},
	}
	for _, tt := range tests {
		require.Equal(t, 2, tt.node.Line, tt.name)
		require.Equal(t, tt.want, tt.node.Column, tt.name)
	}
}
