package report

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func renderText(t *testing.T, s *Summary, opts TextOptions) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, s, opts))
	return buf.String()
}

func TestWriteTextGolden(t *testing.T) {
	t.Parallel()
	golden(t, "summary.txt", []byte(renderText(t, fixtureSummary(), TextOptions{Width: 80})))
}

func TestWriteTextColorOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	s := fixtureSummary()
	plain := renderText(t, s, TextOptions{Width: 80})
	colored := renderText(t, s, TextOptions{Width: 80, Color: true})

	require.NotContains(t, plain, "\x1b[")
	require.Contains(t, colored, "\x1b[1;97;42m  PASS  ", "haproxy's verdict is a green badge")
	require.Contains(t, colored, "\x1b[1;97;41m  FAIL  ", "the overall verdict is a red badge")
	// Colour must not shift a single column.
	require.Equal(t, plain, ansi.ReplaceAllString(colored, ""))
}

func TestWriteTextFitsWidth(t *testing.T) {
	t.Parallel()
	for _, width := range []int{60, 80, 120} {
		out := renderText(t, fixtureSummary(), TextOptions{Width: width})
		for _, line := range strings.Split(out, "\n") {
			require.LessOrEqual(t, utf8.RuneCountInString(line), width, "width %d: %q", width, line)
		}
		// The full-width rule closes the report at exactly the width.
		require.Contains(t, out, strings.Repeat("━", width)+"\n")
	}
}

func TestWriteTextContent(t *testing.T) {
	t.Parallel()
	out := renderText(t, fixtureSummary(), TextOptions{Width: 80})
	lines := strings.Split(out, "\n")

	count := func(sub string) int {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, sub) {
				n++
			}
		}
		return n
	}
	// nginx's stickiness lists 10 of its 14 clients, then the rest as a count.
	require.Equal(t, 10, count(") hit ws1, ws2"))
	require.Contains(t, out, "• client-0002 (127.1.0.3) hit ws1, ws2")
	require.Contains(t, out, "… and 4 more")
	// Passing scenarios list no details.
	require.NotContains(t, out, "client-0003 (127.1.0.4) moved ws2 → ws3\n  PASS")

	require.Regexp(t, `(?m)^━━ haproxy 2\.6\.12 ━+  PASS  ━━$`, out)
	require.Regexp(t, `(?m)^━━ nginx 1\.22\.1 ━+  FAIL  ━━$`, out)
	require.Contains(t, out, "affinity  cookie SERVERID")
	// The images the nodes ran from, under the driver, with short IDs;
	// nginx's run had none and shows no line.
	require.Contains(t, out, "  images    proxy haproxy:2.6 (5d3f4c8a9b1e)\n            node wslb-node:0123456789abcdef (9e8d7c6b5a4f)\n            broker wslb-runtime:bookworm\n")
	require.Equal(t, 1, count("images    "))
	require.Contains(t, out, "load      200 clients × 4 connections × 10 messages")
	require.Contains(t, out, "RTT     proxied p50 0.14 ms · p99 0.98 ms · direct p50 0.06 ms\n          proxy adds 0.08 ms · 300 probe samples")
	require.Contains(t, out, "Load    8,889 msg/s · up to 256 clients in flight · queueing p50 12.0 ms")
	require.Contains(t, out, "Errors  handshake 1 · message 3 · dropped 2 · echoed 1,194/1,200")
	require.Contains(t, out, "p-value n/a", "NaN metrics print as n/a")
	require.Contains(t, out, "SKIP  idle")
	require.Regexp(t, `(?m)^  FAIL   haproxy PASS · nginx FAIL \(stickiness, failover\)$`, out)
}

func TestWriteTextBarsScaleToBusiestBackend(t *testing.T) {
	t.Parallel()
	s := &Summary{Passed: true, Runs: []*Run{{
		Proxy: "haproxy", Passed: true,
		Backends: []*Backend{
			{ID: "a", Weight: 1, Connections: 100},
			{ID: "b", Weight: 1, Connections: 50},
			{ID: "c", Weight: 1, Backup: true},
			{ID: "d", Weight: 1, Connections: 1},
		},
	}}}
	out := renderText(t, s, TextOptions{Width: 80})
	bar := func(id string) int {
		m := regexp.MustCompile(`(?m)^  ` + id + `  weight.*?  ([█▏▎▍▌▋▊▉]*) +\d`).FindStringSubmatch(out)
		require.NotNil(t, m, "no bar line for %s in\n%s", id, out)
		return utf8.RuneCountInString(m[1])
	}
	require.Greater(t, bar("a"), 0)
	require.InDelta(t, bar("a")/2, bar("b"), 1, "half the connections, half the bar")
	require.Equal(t, 0, bar("c"), "a backend without connections has no bar")
	require.Equal(t, 1, bar("d"), "a backend with a connection always shows")
	require.Contains(t, out, "c  weight 1 backup")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTextErrors(t *testing.T) {
	t.Parallel()
	require.ErrorContains(t, WriteText(&bytes.Buffer{}, nil, TextOptions{}), "nil summary")
	require.ErrorContains(t, WriteText(failingWriter{}, fixtureSummary(), TextOptions{}), "disk full")
}

func TestWriteTextEmptyRun(t *testing.T) {
	t.Parallel()
	// A run that produced nothing still renders, without dividing by zero.
	out := renderText(t, &Summary{Runs: []*Run{{Proxy: "nginx"}}}, TextOptions{})
	require.Contains(t, out, "no scenario ran")
	require.Contains(t, out, "RTT     no samples")
	require.Contains(t, out, "  FAIL   nginx FAIL")
}

// A scenario that capped its own list ("… and 180 more" among its details)
// is counted by what it left out, not as one more line.
func TestWriteTextCountsCappedDetails(t *testing.T) {
	t.Parallel()
	sum := fixtureSummary()
	var sc *Scenario
	for _, r := range sum.Runs {
		for _, s := range r.Scenarios {
			if !s.Passed && !s.Skipped && sc == nil {
				sc = s
			}
		}
	}
	require.NotNil(t, sc, "the fixture has a failed scenario")
	sc.Details = nil
	for i := range 20 {
		sc.Details = append(sc.Details, fmt.Sprintf("client-%04d: no connection succeeded", i))
	}
	sc.Details = append(sc.Details, "… and 180 more", "backend io1 output: listening")
	out := renderText(t, sum, TextOptions{Width: 80})
	// 10 shown; 10 listed + 180 left out + 1 output line hidden.
	require.Contains(t, out, "… and 191 more")
	require.NotContains(t, out, "… and 12 more")
}

// A run whose nodes shared a broker names it under the driver, in every
// format; a run without one has no such line.
func TestReportNamesTheBroker(t *testing.T) {
	t.Parallel()
	sum := fixtureSummary()
	sum.Runs[0].Broker = "nats at nats://127.0.0.1:4222, channel chat"
	out := renderText(t, sum, TextOptions{Width: 100})
	require.Contains(t, out, "  broker    nats at nats://127.0.0.1:4222, channel chat\n")
	require.Equal(t, 1, strings.Count(out, "broker    "))

	var js bytes.Buffer
	require.NoError(t, WriteJSON(&js, sum))
	require.Contains(t, js.String(), `"broker": "nats at nats://127.0.0.1:4222, channel chat"`)
}
