package haproxy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTokenize(t *testing.T) {
	// Expectations checked against haproxy 2.6 -c (env -i): what HAProxy
	// reads as "server" is "server" here, and what it rejects is rejected.
	tests := []struct {
		line    string
		words   []string
		cols    []int
		comment string
		err     string
	}{
		{"    server a 1.2.3.4:80 check", []string{"server", "a", "1.2.3.4:80", "check"}, []int{5, 12, 14, 25}, "", ""},
		{`  option httpchk GET / HTTP/1.1\r\nHost:\ x`, []string{"option", "httpchk", "GET", "/", "HTTP/1.1\r\nHost: x"}, []int{3, 10, 18, 22, 24}, "", ""},
		{`  http-request set-header X "a # b" # real comment`, []string{"http-request", "set-header", "X", "a # b"}, []int{3, 16, 27, 29}, "real comment", ""},
		{`  log-format 'x y'`, []string{"log-format", "x y"}, []int{3, 14}, "", ""},
		{`  acl e hdr(x) ""`, []string{"acl", "e", "hdr(x)", ""}, []int{3, 7, 9, 16}, "", ""},
		{`  option httplog "open`, []string{"option", "httplog", "open"}, []int{3, 10, 18}, "", "unterminated quote"},
		{"# only a comment", nil, nil, "only a comment", ""},
		// Quoting and concatenation.
		{`"server" s1 x`, []string{"server", "s1", "x"}, []int{1, 10, 13}, "", ""},
		{`se"rv"er s1`, []string{"server", "s1"}, []int{1, 10}, "", ""},
		{`se'rv'er s1`, []string{"server", "s1"}, []int{1, 10}, "", ""},
		{`se\x72ver`, []string{"server"}, []int{1}, "", ""},
		{`"se\x72ver"`, []string{"server"}, []int{1}, "", ""},
		// Backslashes that are not escapes stay.
		{`serv\er`, []string{`serv\er`}, []int{1}, "", ""},
		{`\server`, []string{`\server`}, []int{1}, "", ""},
		{`se\ rver`, []string{"se rver"}, []int{1}, "", ""},
		// Variables expand in double quotes only, to nothing (empty env).
		{`"se${X}rver"`, []string{"server"}, []int{1}, "", ""},
		{`se"$X"rver`, []string{"server"}, []int{1}, "", ""},
		{`"se${X-rv}er"`, []string{"server"}, []int{1}, "", ""},
		{`"se$Xer"`, []string{"se"}, []int{1}, "", ""},
		{`se${X}rver`, []string{"se${X}rver"}, []int{1}, "", ""},
		{`'se${X}rver'`, []string{"se${X}rver"}, []int{1}, "", ""},
		{`"se\$Xer"`, []string{"se$Xer"}, []int{1}, "", ""},
		{`"a$"`, []string{"a$"}, []int{1}, "", ""},
		{`"${X:-y}"`, nil, nil, "", "unmatched brace in environment variable name"},
		{`"${X"`, nil, nil, "", "unmatched brace in environment variable name"},
		{`se\x7 s1`, nil, nil, "", "truncated or invalid hexadecimal sequence"},
		// '#' starts a comment mid-word unless quoted or escaped.
		{`ser#ver s1`, []string{"ser"}, []int{1}, "ver s1", ""},
		{`se"r#v"er`, []string{"ser#ver"}, []int{1}, "", ""},
		{`se\#rver`, []string{"se#rver"}, []int{1}, "", ""},
	}
	for _, tt := range tests {
		toks, comment, err := Tokenize(tt.line)
		var words []string
		var cols []int
		for _, tk := range toks {
			words = append(words, tk.Text)
			cols = append(cols, tk.Col)
		}
		if tt.err != "" {
			require.ErrorContains(t, err, tt.err, tt.line)
			continue
		}
		require.NoError(t, err, tt.line)
		require.Equal(t, tt.words, words, tt.line)
		require.Equal(t, tt.cols, cols, tt.line)
		require.Equal(t, tt.comment, comment, tt.line)
	}
}

func TestQuoteWordRoundTrip(t *testing.T) {
	for _, w := range []string{"", "server", "a b", `"x"`, "'", `\`, "#", "$X", "${X}", "\r\n\x00", "é", "-"} {
		words, comment, err := Tokenize(JoinWords([]string{w, "next"}))
		require.NoError(t, err, w)
		require.Empty(t, comment, w)
		require.Len(t, words, 2, w)
		require.Equal(t, w, words[0].Text)
	}
}

// FuzzTokenize checks that every line either fails to split or splits
// into words that JoinWords writes back to the same words.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{`"server" a b`, `se"rv"er`, `serv\er`, `"${X-y}" '$Z' \x41`, `a # b`, `"${`, `\x4`, `.if defined(X)`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, _, err := Tokenize(line)
		if err != nil {
			return
		}
		texts := make([]string, len(words))
		for i, w := range words {
			texts[i] = w.Text
			if w.Col < 1 || w.End < w.Col-1 || w.End > len(line) {
				t.Fatalf("word %q at col %d end %d in a line of %d bytes", w.Text, w.Col, w.End, len(line))
			}
		}
		again, comment, err := Tokenize(JoinWords(texts))
		if err != nil || comment != "" || len(again) != len(texts) {
			t.Fatalf("JoinWords(%q) = %q reads back as %v, %q, %v", texts, JoinWords(texts), again, comment, err)
		}
		for i := range again {
			if again[i].Text != texts[i] {
				t.Fatalf("word %d: %q became %q", i, texts[i], again[i].Text)
			}
		}
	})
}

const inherit = `global
    hard-stop-after 30s

defaults base
    mode http
    option httpclose
    timeout client 30s
    timeout tunnel 1h

defaults child from base
    timeout client 60s

defaults
    timeout server 10s

frontend a from child
    bind :80
    no option httpclose

backend b
    server s 127.0.0.1:1

backend c from base
    mode tcp
    server s 127.0.0.1:1
`

func TestDefaultsInheritance(t *testing.T) {
	c := Parse("x.cfg", []byte(inherit))
	require.Empty(t, c.Problems)
	fe := c.SectionsOf("frontend")[0]
	b := c.Backend("b")
	cc := c.Backend("c")
	require.NotNil(t, b)

	v, d, ok := fe.Timeout("client")
	require.True(t, ok)
	require.Equal(t, 60*time.Second, v, "child overrides base")
	require.Equal(t, 11, d.Line)
	v, _, ok = fe.Timeout("tunnel")
	require.True(t, ok, "child inherits base through from")
	require.Equal(t, time.Hour, v)
	on, d := fe.Option("httpclose")
	require.False(t, on, "no option undoes the inherited option")
	require.Equal(t, 18, d.Line)

	require.Nil(t, b.Lookup("timeout", "tunnel"), "the unnamed defaults resets: b sees only it")
	v, _, ok = b.Timeout("server")
	require.True(t, ok)
	require.Equal(t, 10*time.Second, v)
	mode, _ := b.Mode()
	require.Equal(t, "tcp", mode, "no mode in b's defaults: TCP")

	mode, md := cc.Mode()
	require.Equal(t, "tcp", mode)
	require.Equal(t, 24, md.Line)
	on, _ = cc.Option("httpclose")
	require.True(t, on)
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		line int
		msg  string
	}{
		{"unknown keyword", "defaults\n  mode http\nbackend b\n  servr a 1.2.3.4:80\n", 4, `unknown or malformed keyword "servr"`},
		{"misspelt section", "defaults\n  mode http\nbakend b\n  server a 1.2.3.4:80\n", 3, `not a section HAProxy knows`},
		{"outside section", "maxconn 10\nglobal\n", 1, "outside any section"},
		{"nameless frontend", "frontend\n  bind :80\n", 1, "needs a name"},
		{"old bind syntax", "frontend web 0.0.0.0:80\n", 1, `unexpected "0.0.0.0:80" after the frontend section name: HAProxy no longer takes a listening address on the section line, write it as 'bind 0.0.0.0:80'`},
		{"unterminated quote", "global\n  log-tag \"x\n", 2, "unterminated quote"},
		{"unknown from", "backend b from nowhere\n", 1, `"nowhere" named by "from"`},
		{"malformed argument", "backend b\n  balance leastconnz\n", 2, `malformed keyword "balance"`},
		{"duplicate backend", "backend b\nlisten b\n  bind :80\n", 2, "same name as backend b on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Parse("x.cfg", []byte(tt.cfg))
			require.NotEmpty(t, c.Problems)
			require.Equal(t, tt.line, c.Problems[0].Line, "%+v", c.Problems)
			require.Contains(t, c.Problems[0].Message, tt.msg)
		})
	}
}

func TestCookieTimeUnitsAccepted(t *testing.T) {
	c := Parse("x.cfg", []byte("defaults\n  mode http\nbackend b\n  cookie S insert indirect nocache maxidle 30m maxlife 12h\n  cookie T insert maxlife 1zz\n"))
	require.Len(t, c.Problems, 1, "%+v", c.Problems)
	require.Equal(t, 5, c.Problems[0].Line)
}

func TestParallelChunksFindEveryProblem(t *testing.T) {
	var b strings.Builder
	b.WriteString("defaults\n  mode http\n")
	want := []int{}
	for i := 0; i < 600; i++ {
		fmt.Fprintf(&b, "backend b%d\n  server s 127.0.0.1:1\n  option httpchk\n", i)
		if i%100 == 7 {
			want = append(want, strings.Count(b.String(), "\n")+1)
			b.WriteString("  bogus keyword\n")
		}
	}
	c := Parse("big.cfg", []byte(b.String()))
	var got []int
	for _, p := range c.Problems {
		got = append(got, p.Line)
	}
	require.Equal(t, want, got)
}

func TestParsedView(t *testing.T) {
	c := Parse("x.cfg", []byte(inherit))
	p, err := c.Parsed()
	require.NoError(t, err)
	names, err := p.SectionsGet("backend")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"b", "c"}, names)
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"5000": 5 * time.Second, "30s": 30 * time.Second, "1h": time.Hour, "100ms": 100 * time.Millisecond, "2m": 2 * time.Minute, "1d": 24 * time.Hour} {
		got, err := ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "s", "10x", "-1s"} {
		_, err := ParseDuration(bad)
		require.Error(t, err, bad)
	}
}

// config-parser panics on some malformed lines; they become problems on
// their line instead of crashing wslb, and the other lines are still judged.
func TestParserPanicIsAProblem(t *testing.T) {
	c := Parse("x.cfg", []byte("defaults\n  mode http\nbackend b\n  stick onurl_param(sid)\n  servr a 1.2.3.4:80\n  server b 1.2.3.4:80\n"))
	var lines []int
	for _, p := range c.Problems {
		lines = append(lines, p.Line)
	}
	require.Equal(t, []int{4, 5}, lines, "%+v", c.Problems)
	require.Contains(t, c.Problems[0].Message, `malformed keyword "stick"`)
	_, err := c.Parsed()
	require.Error(t, err)
}

// Keywords for the other side of a proxy are ignored with a warning by
// HAProxy, not rejected: option httplog, bind or use_backend in a backend,
// timeout server in a frontend. A server line in a frontend is an error.
func TestOtherSideKeywordsAreNotProblems(t *testing.T) {
	c := Parse("x.cfg", []byte("defaults\n  mode http\nfrontend f\n  bind :80\n  timeout server 5s\n  timeout tunnel 1h\n  server x 1.2.3.4:80\nbackend b\n  option httplog\n  timeout client 5s\n  bind :90\n  use_backend b\n  server s 10.0.0.1:80\n"))
	var lines []int
	for _, p := range c.Problems {
		lines = append(lines, p.Line)
	}
	require.Equal(t, []int{7}, lines, "%+v", c.Problems)
}

// One line longer than config-parser's scanner takes must not switch the
// keyword check off for every line after it.
func TestLongLineKeepsKeywordCheck(t *testing.T) {
	long := "  acl big path_beg " + strings.Repeat("/abcdefgh ", 8000)
	c := Parse("x.cfg", []byte("defaults\n  mode http\nfrontend f\n  bind :80\n"+long+"\n  bogus_kw 1\nbackend b\n  servr a 1.2.3.4:80\n"))
	var lines []int
	for _, p := range c.Problems {
		lines = append(lines, p.Line)
	}
	require.Equal(t, []int{6, 8}, lines, "%+v", c.Problems)
}
