package topology

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// hostile are strings that would break out of a config value if emitted
// verbatim; no grammar may accept any of them.
var hostile = []string{
	"a\nb", "a\rb", "x; listen 1", "}", "{", "#", "a#b", "\"", "'", "a b", "a\tb",
	"\x00", "a\x00", "${x}", "$host", "a\\b", "`id`", "a\x7fb",
	"\u202eevil",     // right-to-left override
	"ex\u200bample",  // zero-width space
	"ex\u0430mple",   // Cyrillic a
	"\uff0fws",       // full-width solidus
	"caf\u00e9",      // non-ASCII letter
	"/ws\n}\nserver", // directive injection attempt
	"%0a", "/%0a",
}

func TestGrammarsRejectHostileStrings(t *testing.T) {
	checks := map[string]func(string) error{
		"name":    CheckName,
		"header":  CheckHeaderName,
		"cookie":  CheckCookieName,
		"param":   CheckQueryParam,
		"host":    CheckHostName,
		"anyhost": CheckHost,
		"path":    CheckPath,
		"file":    CheckFilePath,
		"origin":  CheckOrigin,
		"cidr":    func(s string) error { _, err := ParseCIDR(s); return err },
		"address": func(s string) error { _, err := ParseAddress(s); return err },
		"listen":  func(s string) error { _, err := ParseListenAddress(s); return err },
		"version": func(s string) error { _, err := ParseVersion(s); return err },
		"service": func(s string) error { _, err := ParseKubernetesService(s); return err },
	}
	for what, check := range checks {
		for _, s := range hostile {
			for _, v := range []string{s, "/" + s, "a" + s, s + ":80", "https://" + s, "10.0.0.1:" + s} {
				err := check(v)
				require.Error(t, err, "%s accepted %q", what, v)
				var g *GrammarError
				require.ErrorAs(t, err, &g)
				require.NotEmpty(t, g.Allowed)
				require.NotEmpty(t, g.Reason)
			}
		}
	}
}

func TestGrammars(t *testing.T) {
	tests := []struct {
		what  string
		check func(string) error
		good  []string
		bad   []string
	}{
		{"name", CheckName,
			[]string{"a", "web", "ws-1", "pool_2", "api.v2", "A" + strings.Repeat("b", 63)},
			[]string{"", "1st", "-a", "_a", ".a", "a/b", "a:b", "a@b", "A" + strings.Repeat("b", 64)}},
		{"header", CheckHeaderName,
			[]string{"X-Session-Id", "x-forwarded-for", "Authorization", "X1", "1X"},
			[]string{"", "-X", "X_Session", "X.Y", "X:Y", "X/Y", "X(Y)", strings.Repeat("x", 65)}},
		{"cookie", CheckCookieName,
			[]string{"WSLB_SRV", "sid", "_s", "io_srv", "a1"},
			[]string{"", "1a", "a-b", "a.b", "a=b", "a;b", "a,b", strings.Repeat("c", 65)}},
		{"param", CheckQueryParam,
			[]string{"sid", "room", "room_id", "1", "EIO"},
			[]string{"", "a-b", "a=b", "a&b", "a[]", "a.b"}},
		{"hostname", CheckHostName,
			[]string{"localhost", "chat.example.com", "a-b.c", "x1", "10.0.0.1", strings.Repeat("a", 63) + ".com"},
			[]string{"", "-a.com", "a-.com", "a..com", ".a.com", "a.com.", "a_b.com", "*.example.com", strings.Repeat("a", 64) + ".com", strings.Repeat("a.", 127) + "com"}},
		{"host", CheckHost,
			[]string{"10.0.0.1", "::1", "fd00::1", "chat.example.com", "::ffff:10.0.0.1"},
			[]string{"10.0.0.256", "10.0.0", "1.2.3.4.5", "fe80::1%eth0", "fe80::1%a;b", "[::1]", ":::",
				"0x7f.1", "0x0a000001", "127.1", "0177.0.0.1", "2130706433", "0x7f.0.0.1", "10.0.0.010", "a.b.0x1", "example.123", "0X7F.1"}},
		{"path", CheckPath,
			[]string{"/", "/ws", "/socket.io/", "/api/v1/", "/a-b_c.d~e", "/!&()*+,=:@", "/.well-known/x"},
			[]string{"", "ws", "/a b", "/a;b", "/a$b", "/a'b", "/a%20b", "/a?b", "/a//b", "/a/./b", "/a/../b", "/..", "/a[b]", "/a<b>", "/a|b", "/a^b", "/" + strings.Repeat("a", 1024)}},
		{"file", CheckFilePath,
			[]string{"/etc/ssl/private/chat.pem", "/etc/haproxy/certs/a_b-c+d@e,f=g~h.pem"},
			[]string{"", "chat.pem", "./chat.pem", "/etc/ssl/", "/etc/../shadow", "/a b", "/a;b", "/a$b", "/a:b", "/a{b}", "/a*"}},
		{"origin", CheckOrigin,
			[]string{"https://chat.example.com", "http://localhost:8080", "https://10.0.0.1:8443", "https://[::1]:8443", "http://[fd00::1]", "https://a-b.example.com"},
			[]string{"", "chat.example.com", "https://", "https://chat.example.com/", "https://chat.example.com/path", "https://chat.example.com?x", "https://user@chat.example.com",
				"HTTPS://chat.example.com", "https://Chat.example.com", "https://chat.example.com:443", "http://chat.example.com:80", "https://chat.example.com:0", "https://chat.example.com:", "ws://chat.example.com", "*", "null", "https://[::1", "https://[::1]x", "https://*.example.com"}},
		{"address", func(s string) error { _, err := ParseAddress(s); return err },
			[]string{"10.0.0.11:8080", "[::1]:8080", "[fd00::11]:80", "backend.internal:8080", "localhost:1", "10.0.0.1:65535"},
			[]string{"", "10.0.0.11", ":8080", "*:8080", "::1:8080", "[::1]", "[::1:8080", "10.0.0.11:0", "10.0.0.11:65536", "10.0.0.11:080", "10.0.0.11:+80", "10.0.0.11:8080:1", "[fe80::1%eth0]:80", "300.0.0.1:80"}},
		{"listen", func(s string) error { _, err := ParseListenAddress(s); return err },
			[]string{"0.0.0.0:8080", "*:8080", ":8080", "[::]:8080", "127.0.0.1:80", "localhost:8080"},
			[]string{"", "8080", "0.0.0.0", "0.0.0.0:0", "**:80", "[::]"}},
		{"cidr", func(s string) error { _, err := ParseCIDR(s); return err },
			[]string{"10.0.0.0/8", "192.168.1.0/24", "10.0.0.1", "fd00::/8", "::1", "0.0.0.0/0"},
			[]string{"", "10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "fe80::1%eth0", "10.0.0.0/8,10.1.0.0/16", "all"}},
		{"service", func(s string) error { _, err := ParseKubernetesService(s); return err },
			[]string{"realtime.chat:8080", "a.b:1", "ws-1.prod-eu:65535", "a" + strings.Repeat("b", 62) + ".c:80"},
			[]string{"", "realtime", "realtime.chat", "realtime:8080", ".chat:80", "realtime.:80", "Realtime.chat:80", "realtime.chat.svc.cluster.local:80",
				"1st.chat:80", "rt-.chat:80", "realtime.chat:0", "realtime.chat:080", "realtime.chat:80:1", "real_time.chat:80", "a" + strings.Repeat("b", 63) + ".c:80"}},
		{"version", func(s string) error { _, err := ParseVersion(s); return err },
			[]string{"2.6", "1.22.1", "3.0.0", "10.0"},
			[]string{"", "2", "2.", "v2.6", "2.6.1.1", "2.06", "2.6-dev", "latest", "99999.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			for _, s := range tt.good {
				require.NoError(t, tt.check(s), "%q should be accepted", s)
			}
			for _, s := range tt.bad {
				require.Error(t, tt.check(s), "%q should be rejected", s)
			}
		})
	}
}

func TestParsedValues(t *testing.T) {
	a, err := ParseListenAddress(":8080")
	require.NoError(t, err)
	require.Equal(t, Address{Host: "*", Port: 8080}, a)

	a, err = ParseAddress("[fd00::11]:80")
	require.NoError(t, err)
	require.Equal(t, Address{Host: "fd00::11", Port: 80}, a)
	require.Equal(t, "[fd00::11]:80", a.String())

	v, err := ParseVersion("1.29.6")
	require.NoError(t, err)
	require.Equal(t, Version{1, 29, 6}, v)
	require.True(t, v.AtLeast(1, 29, 6))
	require.False(t, v.AtLeast(1, 29, 7))
	require.True(t, v.AtLeast(1, 28, 9))
	require.False(t, v.AtLeast(2, 0, 0))
	require.Negative(t, v.Compare(Version{1, 30, 0}))
	require.Positive(t, v.Compare(Version{1, 29, 5}))
	require.Zero(t, v.Compare(Version{1, 29, 6}))
	require.Equal(t, "1.29.6", v.String())

	svc, err := ParseKubernetesService("realtime.chat:8080")
	require.NoError(t, err)
	require.Equal(t, KubernetesService{Name: "realtime", Namespace: "chat", Port: 8080}, svc)
	require.Equal(t, "realtime.chat.svc.cluster.local", svc.Host())
	require.Equal(t, "realtime.chat:8080", svc.String())

	c, err := ParseCIDR("fd00:0::/8")
	require.NoError(t, err)
	require.Equal(t, "fd00::/8", c)
}

// Numeric host spellings that resolvers read as IPv4 addresses name the
// address they stand for.
func TestNumericHostNamesTheAddress(t *testing.T) {
	for in, want := range map[string]string{
		"0x7f.1": "127.0.0.1", "0x0a000001": "10.0.0.1", "127.1": "127.0.0.1",
		"0177.0.0.1": "127.0.0.1", "10.1.2": "10.1.0.2", "2130706433": "127.0.0.1",
	} {
		err := CheckHost(in)
		require.Error(t, err, in)
		require.Contains(t, err.(*GrammarError).Reason, "IPv4 address "+want, in)
	}
	for _, ok := range []string{"0x7f.example.com", "1x.example", "123.example.com", "ab.cd"} {
		require.NoError(t, CheckHost(ok), ok)
	}
}

func TestGrammarErrorMessage(t *testing.T) {
	err := CheckPath("/ws\n}")
	var g *GrammarError
	require.ErrorAs(t, err, &g)
	require.Equal(t, "path", g.What)
	require.Equal(t, `character '\n' at offset 3 is not allowed`, g.Reason)
	require.Contains(t, err.Error(), `"/ws\n}"`)
}
