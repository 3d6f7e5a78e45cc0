package rewrite_test

import (
	_ "github.com/wslb/wslb/proxy/all"
	"github.com/wslb/wslb/proxy/rewrite"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/proxy/nginx"
)

func renderWith(t *testing.T, c *rewrite.Config, fast bool) *rewrite.Result {
	t.Helper()
	backends := map[string]string{}
	for i, id := range c.ServerIDs() {
		backends[id] = "127.0.0.1:" + string(rune('1'+i)) + "000"
	}
	res, err := c.Render(rewrite.Local{Dir: t.TempDir(), Backends: backends, FastChecks: fast,
		ListenAddrs: zeroAddrs})
	require.NoError(t, err)
	return res
}

// linesWith returns the rendered lines containing sub, trimmed.
func linesWith(res *rewrite.Result, sub string) []string {
	var out []string
	for _, l := range strings.Split(string(res.Config), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

func TestHAProxyTimersAreReadAndShortened(t *testing.T) {
	c, err := rewrite.Load(filepath.Join("testdata", "haproxy-timers.cfg"))
	require.NoError(t, err)
	want := rewrite.Timers{Known: true, Checks: true, Interval: 3 * time.Second, FastInter: time.Second, DownInter: 10 * time.Second,
		Rise: 2, Fall: 3}
	require.Equal(t, want, c.Timers)

	fast := renderWith(t, c, true)
	require.Equal(t, want, fast.Timers, "the result reports the production timers, not the local ones")
	for _, l := range append(linesWith(fast, "    server "), linesWith(fast, "default-server")...) {
		require.Contains(t, l, "inter 50ms fastinter 50ms downinter 50ms", "every server and default-server line checks fast")
		require.NotContains(t, l, "3s")
		require.NotContains(t, l, "10s")
	}
	require.Len(t, linesWith(fast, "server c"), 3)
	require.Equal(t, []string{"timeout check 1000ms"}, linesWith(fast, "timeout check"), "a check may take 1s on a busy machine")
	require.True(t, containsSubstring(fast.Notes, "health checks: inter, fastinter and downinter set to 50ms"), fast.Notes)

	slow := renderWith(t, c, false)
	require.Equal(t, []string{"timeout check 300ms"}, linesWith(slow, "timeout check"))
	require.Equal(t, []string{"default-server inter 3s fastinter 1s downinter 10s"}, linesWith(slow, "default-server inter"))
	require.Empty(t, linesWith(slow, "50ms"), "production timers stay as written")
}

func TestHAProxyTimersDefaultsAndDisagreement(t *testing.T) {
	// haproxy-hash-cookie.cfg: inter 1s on each server, HAProxy's rise 2
	// and fall 3, no timeout check.
	c, err := rewrite.Load(filepath.Join("testdata", "haproxy-hash-cookie.cfg"))
	require.NoError(t, err)
	require.Equal(t, rewrite.Timers{Known: true, Checks: true, Interval: time.Second, Rise: 2, Fall: 3}, c.Timers)
	fast := renderWith(t, c, true)
	require.Equal(t, []string{"timeout check 1000ms"}, linesWith(fast, "timeout check"), "added where the config sets none")

	// No `check`: known, but no health checks.
	c, err = rewrite.Load(filepath.Join("testdata", "haproxy-roundrobin.cfg"))
	require.NoError(t, err)
	require.True(t, c.Timers.Known)
	require.False(t, c.Timers.Checks)

	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	const head = "defaults\n    mode http\nfrontend fe\n    bind :80\n    default_backend b\nbackend b\n"
	c, err = rewrite.Load(write("differ.cfg", head+"    server a 10.0.0.1:80 check inter 1s\n    server b 10.0.0.2:80 check inter 2s\n"))
	require.NoError(t, err)
	require.False(t, c.Timers.Known, "servers with different timers have no one production timing")

	_, err = rewrite.Load(write("bad.cfg", head+"    server a 10.0.0.1:80 check inter soon\n"))
	require.ErrorContains(t, err, "bad.cfg:7: inter \"soon\" is not a positive time")
}

func TestNginxTimersAreReadAndShortened(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(p, []byte(`events {}
http {
    upstream ws {
        hash $remote_addr consistent;
        server 10.0.0.1:80 max_fails=3 fail_timeout=30s;
        server 10.0.0.2:80 max_fails=3 fail_timeout=30s weight=2;
    }
    server {
        listen 80;
        location / {
            proxy_pass http://ws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection "upgrade";
        }
    }
}
`), 0o644))
	c, err := rewrite.Load(p)
	require.NoError(t, err)
	require.Equal(t, rewrite.Timers{Known: true, Checks: true, MaxFails: 3, FailTimeout: 30 * time.Second}, c.Timers)

	fast := renderWith(t, c, true)
	servers := linesWith(fast, "max_fails=")
	require.Len(t, servers, 2)
	require.Equal(t, time.Second, nginx.FailTimeout(driver.FastCheckInterval, 3))
	for _, l := range servers {
		require.Contains(t, l, "max_fails=3")
		require.Contains(t, l, "fail_timeout=1s", "as generated configs checked every 50ms × 3, rounded up to 1s")
		require.NotContains(t, l, "30s")
	}
	require.Contains(t, servers[1], "weight=2")
	require.True(t, containsSubstring(fast.Notes, "health checks: fail_timeout"), fast.Notes)

	slow := renderWith(t, c, false)
	for _, l := range linesWith(slow, "max_fails=") {
		require.Contains(t, l, "fail_timeout=30s")
	}

	orig, err := os.ReadFile(p)
	require.NoError(t, err)
	// NGINX's defaults when the server lines set nothing.
	require.NoError(t, os.WriteFile(p, []byte(strings.ReplaceAll(strings.ReplaceAll(string(orig), " max_fails=3 fail_timeout=30s", ""), "weight=2", "")), 0o644))
	c, err = rewrite.Load(p)
	require.NoError(t, err)
	require.Equal(t, rewrite.Timers{Known: true, Checks: true, MaxFails: 1, FailTimeout: 10 * time.Second}, c.Timers)
	require.Len(t, linesWith(renderWith(t, c, true), "fail_timeout=1s"), 2, "the 10s default becomes 1s")
}

// TestNginxRenderIsRepeatable: Render writes from the tree Load read
// (verify renders again when a listener port was taken), so rendering
// must leave that tree as it was: the same Local gives the same config.
func TestNginxRenderIsRepeatable(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"nginx-upgrade-map.conf", "nginx-hash-cookie.conf", "nginx-if-upgrade.conf", "nginx-iphash.conf"} {
		c, err := rewrite.Load(filepath.Join("testdata", name))
		require.NoError(t, err)
		l := rewrite.Local{Dir: t.TempDir(), Backends: map[string]string{}, FastChecks: true,
			ListenAddrs: zeroAddrs}
		for i, id := range c.ServerIDs() {
			l.Backends[id] = "127.0.0.1:" + strconv.Itoa(1000+i)
		}
		first, err := c.Render(l)
		require.NoError(t, err)
		again, err := c.Render(l)
		require.NoError(t, err)
		require.Equal(t, string(first.Config), string(again.Config), name)
		require.Equal(t, first.Listeners, again.Listeners, name)
	}
}
