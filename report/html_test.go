package report

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// has reports whether out contains sub without printing the whole page
// when it does not.
func has(t *testing.T, out, sub string) {
	t.Helper()
	require.True(t, strings.Contains(out, sub), "page lacks %q", sub)
}

func hasNot(t *testing.T, out, sub string) {
	t.Helper()
	require.False(t, strings.Contains(out, sub), "page contains %q", sub)
}

func renderHTML(t *testing.T, s *Summary) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, s))
	return buf.String()
}

func TestWriteHTMLContent(t *testing.T) {
	t.Parallel()
	out := renderHTML(t, fixtureSummary())

	require.True(t, strings.HasPrefix(out, "<!DOCTYPE html>"))
	has(t, out, `<div class="banner fail" role="status">`)
	has(t, out, "1 of 2 runs failed")
	has(t, out, "haproxy PASS · nginx FAIL (stickiness, failover)")
	for _, title := range []string{"haproxy 2.6.12", "nginx 1.22.1"} {
		has(t, out, "<h2>"+title+"</h2>")
	}
	// Each run has its three charts.
	for _, label := range []string{"Connections per backend", "Round-trip time histogram",
		"Connections per backend over time, with failover and reload events"} {
		require.Equal(t, 2, strings.Count(out, `aria-label="`+label+`"`), label)
	}
	// Timeline markers for the events, not for the samples.
	has(t, out, ">backend-down ws2</text>")
	has(t, out, ">reload</text>")
	hasNot(t, out, ">sample<")

	// nginx's 14 failing clients: 10 listed, 4 folded away.
	require.Equal(t, 14, strings.Count(out, ") hit ws1, ws2</li>"))
	has(t, out, "<summary>… and 4 more</summary>")
	has(t, out, `<span class="pill skip">SKIP</span>`)
	has(t, out, "<dt>Images</dt><dd>proxy haproxy:2.6 (5d3f4c8a9b1e) · node wslb-node:0123456789abcdef (9e8d7c6b5a4f) · broker wslb-runtime:bookworm</dd>")
	require.Equal(t, 1, strings.Count(out, "<dt>Images</dt>"), "only the run whose nodes ran from images")
	has(t, out, `<td class="n bad">1,194</td>`) // fewer echoes than sends is flagged
}

func TestWriteHTMLIsSelfContained(t *testing.T) {
	t.Parallel()
	out := renderHTML(t, fixtureSummary())
	lower := strings.ToLower(out)
	for _, banned := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", "http:", "https:", "src="} {
		hasNot(t, lower, banned) // the page must not load anything
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(out, -1) {
		require.True(t, strings.HasPrefix(m[1], "#"), "only in-page links, got %q", m[1])
	}
}

func TestWriteHTMLEscapes(t *testing.T) {
	t.Parallel()
	const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	s := fixtureSummary()
	s.Source = hostile
	r := s.Runs[1]
	r.Pool = hostile
	r.Affinity.Key = hostile
	r.Backends[0].ID = hostile
	r.Scenarios[0].Name = hostile
	r.Scenarios[0].Details[0] = hostile
	r.Scenarios[0].Metrics[0].Name = hostile
	r.Errors.Samples = []string{hostile}
	r.Timeline[3].Detail = hostile

	out := renderHTML(t, s)
	hasNot(t, out, "<script>")
	hasNot(t, out, "<img")
	has(t, out, "&lt;script&gt;alert(1)&lt;/script&gt;")
}

func TestWriteHTMLEmptyRun(t *testing.T) {
	t.Parallel()
	out := renderHTML(t, &Summary{Runs: []*Run{{Proxy: "nginx"}}})
	has(t, out, "No scenario ran.")
	has(t, out, "No backend served a connection.")
	has(t, out, "No round trips were measured.")
	has(t, out, "No timeline was recorded")
	hasNot(t, out, "NaN")

	out = renderHTML(t, &Summary{})
	has(t, out, "No proxy was verified")
}

func TestWriteHTMLErrors(t *testing.T) {
	t.Parallel()
	require.ErrorContains(t, WriteHTML(&bytes.Buffer{}, nil), "nil summary")
	require.ErrorContains(t, WriteHTML(failingWriter{}, fixtureSummary()), "disk full")
}

// TestWriteHTMLRendersInChromium renders the page in headless Chromium
// and checks the screenshot shows a real page: mostly not background,
// many colours, and both verdict colours.
func TestWriteHTMLRendersInChromium(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("skipping the Chromium render in -short mode")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium not found in PATH; install it with: apt-get install -y chromium")
	}

	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	shot := filepath.Join(dir, "shot.png")
	require.NoError(t, os.WriteFile(page, []byte(renderHTML(t, fixtureSummary())), 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size=1200,1600", "file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	// Chromium forks helpers: run it in its own process group and kill
	// the whole group if it hangs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "chromium failed:\n%s", out)

	f, err := os.Open(shot)
	require.NoError(t, err, "chromium wrote no screenshot:\n%s", out)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)

	st := imageStats(img)
	require.Equal(t, 1200*1600, st.pixels)
	require.Greater(t, st.nonBackground, 0.05, "the page looks blank")
	require.Greater(t, st.distinct, 200, "too few colours for a page with charts")
	require.Greater(t, st.near[colPass], 500, "no PASS green on the page")
	require.Greater(t, st.near[colFail], 5000, "no FAIL red banner on the page")
}

type shotStats struct {
	pixels        int
	nonBackground float64 // fraction of pixels that are neither white nor the page grey
	distinct      int
	near          map[string]int // pixels within a small distance of each verdict colour
}

func imageStats(img image.Image) shotStats {
	targets := map[string]color.RGBA{colPass: hexColor(colPass), colFail: hexColor(colFail)}
	bg := []color.RGBA{{0xff, 0xff, 0xff, 0xff}, hexColor("#f6f8fa")}
	st := shotStats{near: map[string]int{}}
	seen := map[color.RGBA]bool{}
	other := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			st.pixels++
			seen[c] = true
			isBG := false
			for _, g := range bg {
				if colorDistance(c, g) <= 3 {
					isBG = true
				}
			}
			if !isBG {
				other++
			}
			for name, want := range targets {
				if colorDistance(c, want) <= 12 {
					st.near[name]++
				}
			}
		}
	}
	st.distinct = len(seen)
	st.nonBackground = float64(other) / float64(st.pixels)
	return st
}

func colorDistance(a, b color.RGBA) int {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return max(d(a.R, b.R), d(a.G, b.G), d(a.B, b.B))
}

func hexColor(s string) color.RGBA {
	var c color.RGBA
	c.A = 0xff
	for i, p := range []*uint8{&c.R, &c.G, &c.B} {
		v := s[1+2*i : 3+2*i]
		var n uint8
		for _, ch := range v {
			n <<= 4
			switch {
			case ch >= '0' && ch <= '9':
				n |= uint8(ch - '0')
			default:
				n |= uint8(ch-'a') + 10
			}
		}
		*p = n
	}
	return c
}
