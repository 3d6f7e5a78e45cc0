package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wslb/wslb/internal/iostreams"
)

// TextOptions shape the terminal report.
type TextOptions struct {
	// Color turns on ANSI colours and bold. The CLI sets it when the
	// output is a terminal (and NO_COLOR is unset).
	Color bool
	// Width is the terminal width in columns; bars and wrapped lines fit
	// in it. Zero means 80.
	Width int
}

const (
	defaultWidth = 80
	minWidth     = 50
	indent       = "  "
)

// WriteText writes the terminal report of s: per run a header with the
// verdict, the scenarios with their numbers, a bar per backend, the
// round-trip times and the errors; then the verdict of the whole
// verification.
func WriteText(w io.Writer, s *Summary, opts TextOptions) error {
	if s == nil {
		return errors.New("write text report: nil summary")
	}
	width := opts.Width
	if width <= 0 {
		width = defaultWidth
	}
	width = max(width, minWidth)
	bw := bufio.NewWriter(w)
	t := &textReport{w: bw, width: width, p: painter{iostreams.Painter{On: opts.Color}}}

	if s.Source != "" {
		t.line(t.p.Bold("wslb verify") + " " + s.Source)
		t.line("")
	}
	for _, r := range s.Runs {
		if r != nil {
			t.run(r)
		}
	}
	t.verdict(s)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write text report: %w", err)
	}
	return nil
}

// textReport writes lines to a buffered writer; bufio keeps the first
// write error, which Flush returns.
type textReport struct {
	w     *bufio.Writer
	width int
	p     painter
}

func (t *textReport) line(s string) {
	t.w.WriteString(strings.TrimRight(s, " "))
	t.w.WriteByte('\n')
}

func (t *textReport) run(r *Run) {
	// ━━ haproxy 2.6.12 ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━  PASS  ━━
	title := proxyTitle(r)
	badge := "  " + passWord(r.Passed) + "  "
	fill := t.width - textWidth(title) - textWidth(badge) - 6 // "━━ ", " ", "━━"
	rule := t.p.Paint("━━ ", verdictColor(r.Passed)) + t.p.Bold(title) + " " +
		t.p.Paint(strings.Repeat("━", max(fill, 3)), verdictColor(r.Passed)) +
		t.p.badge(badge, r.Passed) + t.p.Paint("━━", verdictColor(r.Passed))
	t.line(rule)

	facts := [][2]string{
		{"pool", r.Pool},
		{"affinity", affinityText(r.Affinity)},
		{"driver", driverText(r)},
		{"images", imagesText(r)},
		{"broker", r.Broker},
		{"load", loadText(r)},
		{"duration", formatDuration(r.Duration)},
	}
	// A fact's " · " parts wrap under its value (driver and images run
	// long on a narrow terminal).
	hang := indent + strings.Repeat(" ", 10)
	for _, f := range facts {
		if f[1] == "" {
			continue
		}
		for i, l := range wrapFact(f[1], t.width-len(hang)) {
			head := hang
			if i == 0 {
				head = indent + t.p.Dim(pad(f[0], 10))
			}
			t.line(head + l)
		}
	}
	t.line("")

	t.scenarios(r)
	t.backends(r)
	t.rtt(r)
	t.errors(r)
	t.line("")
}

// scenarios writes one row per scenario (verdict, name, summary), its
// metrics underneath and, when it failed, its details.
func (t *textReport) scenarios(r *Run) {
	if len(r.Scenarios) == 0 {
		t.line(indent + t.p.Dim("no scenario ran"))
		t.line("")
		return
	}
	nameW := 0
	for _, sc := range r.Scenarios {
		if sc != nil {
			nameW = max(nameW, textWidth(sc.Name))
		}
	}
	// Continuation lines start under the summary column.
	hang := strings.Repeat(" ", len(indent)+4+2+nameW+2)
	avail := t.width - len(hang)

	t.line(indent + t.p.Bold("Scenarios"))
	for _, sc := range r.Scenarios {
		if sc == nil {
			continue
		}
		word := scenarioWord(sc)
		lines := wrapWords(strings.Fields(sc.Summary), " ", avail)
		if len(lines) == 0 {
			lines = []string{""}
		}
		t.line(indent + t.p.Paint(word, scenarioColor(sc)) + "  " + t.p.Bold(pad(sc.Name, nameW)) + "  " + lines[0])
		for _, l := range lines[1:] {
			t.line(hang + l)
		}

		// Metrics as "name value" pairs: names dim, values plain, so the
		// numbers stand out in colour.
		var names, values []string
		for _, m := range sc.Metrics {
			names, values = append(names, m.Name), append(values, formatMetric(m))
		}
		if sc.Elapsed > 0 {
			names, values = append(names, "took"), append(values, formatDuration(sc.Elapsed))
		}
		items := make([]string, len(names))
		for i := range names {
			items[i] = names[i] + " " + values[i]
		}
		for _, group := range wrapGroups(items, " · ", avail) {
			parts := make([]string, len(group))
			for j, k := range group {
				parts[j] = t.p.Dim(names[k]) + " " + values[k]
			}
			t.line(hang + strings.Join(parts, t.p.Dim(" · ")))
		}

		if !sc.Passed && !sc.Skipped && len(sc.Details) > 0 {
			shown := sc.Details
			if len(shown) > detailLimit {
				shown = shown[:detailLimit]
			}
			for _, d := range shown {
				for i, l := range wrapWords(strings.Fields(d), " ", avail-2) {
					if i == 0 {
						t.line(hang + t.p.Paint("• ", iostreams.Red) + l)
					} else {
						t.line(hang + "  " + l)
					}
				}
			}
			if more := hiddenDetails(sc.Details[len(shown):]); more > 0 {
				t.line(hang + t.p.Dim(fmt.Sprintf("… and %s more", formatInt(more))))
			}
		}
	}
	t.line("")
}

// backends writes a horizontal bar per backend scaled to the busiest one.
func (t *textReport) backends(r *Run) {
	if len(r.Backends) == 0 {
		return
	}
	total := totalConnections(r.Backends)
	idW, tagW, countW, most := 0, 0, 0, 0
	for _, b := range r.Backends {
		if b == nil {
			continue
		}
		idW = max(idW, textWidth(b.ID))
		tagW = max(tagW, textWidth(backendTag(b)))
		countW = max(countW, len(formatInt(int64(b.Connections))))
		most = max(most, b.Connections)
	}
	const pctW = 6 // "100.0%"
	barW := t.width - len(indent) - idW - 2 - tagW - 2 - 2 - countW - 2 - pctW
	barW = max(barW, 10)

	t.line(indent + t.p.Bold("Connections per backend"))
	for _, b := range r.Backends {
		if b == nil {
			continue
		}
		bar := barString(b.Connections, most, barW)
		color := iostreams.Cyan
		if b.Backup {
			color = iostreams.Magenta
		}
		t.line(indent + pad(b.ID, idW) + "  " + t.p.Dim(pad(backendTag(b), tagW)) + "  " +
			t.p.Paint(bar, color) + strings.Repeat(" ", barW-textWidth(bar)) + "  " +
			padLeft(formatInt(int64(b.Connections)), countW) + "  " +
			t.p.Dim(padLeft(formatPercent(b.Connections, total), pctW)))
	}
	t.line("")
}

func backendTag(b *Backend) string {
	tag := fmt.Sprintf("weight %d", b.Weight)
	if b.Backup {
		tag += " backup"
	}
	return tag
}

// rtt writes the probe's round trips (through the proxy, and straight to a
// backend) and the load phases' throughput and queueing delay, each under
// its own name.
func (t *textReport) rtt(r *Run) {
	l := r.RTT
	if l.Samples == 0 && l.Max == 0 {
		t.line(indent + t.p.Bold(pad("RTT", 8)) + t.p.Dim("no samples"))
	} else {
		items := []string{
			"proxied p50 " + formatLatency(l.P50), "p99 " + formatLatency(l.P99),
		}
		if d := r.DirectRTT; d.Samples > 0 {
			items = append(items, "direct p50 "+formatLatency(d.P50))
		}
		if added, ok := r.ProxyAdded(); ok {
			items = append(items, "proxy adds "+formatLatency(added))
		}
		items = append(items, formatInt(l.Samples)+" probe samples")
		t.labelled("RTT", items, nil)
	}
	ld := r.Load
	if ld.Messages == 0 {
		return
	}
	items := []string{fmt.Sprintf("%s msg/s", formatInt(int64(math.Round(ld.Throughput()))))}
	if ld.InFlight > 0 {
		items = append(items, fmt.Sprintf("up to %s clients in flight", formatInt(int64(ld.InFlight))))
	}
	if q := ld.Queueing; q.Samples > 0 {
		items = append(items, "queueing p50 "+formatLatency(q.P50), "p99 "+formatLatency(q.P99))
	}
	t.labelled("Load", items, nil)
}

func (t *textReport) errors(r *Run) {
	e := r.Errors
	items := []string{
		"handshake " + formatInt(int64(e.Handshake)),
		"message " + formatInt(int64(e.Message)),
		"dropped " + formatInt(int64(e.Dropped)),
		"echoed " + formatInt(e.Echoed) + "/" + formatInt(e.Sent),
	}
	bad := []bool{e.Handshake > 0, e.Message > 0, e.Dropped > 0, e.Echoed < e.Sent}
	t.labelled("Errors", items, bad)
	hang := indent + strings.Repeat(" ", 8)
	const sampleLimit = 3
	for i, s := range e.Samples {
		if i == sampleLimit {
			t.line(hang + t.p.Dim(fmt.Sprintf("… and %d more", len(e.Samples)-sampleLimit)))
			break
		}
		t.line(hang + t.p.Dim(truncate(s, t.width-len(hang))))
	}
}

// labelled writes "Label   a · b · c", wrapped under the first item, with
// the items flagged in bad in red.
func (t *textReport) labelled(label string, items []string, bad []bool) {
	hang := indent + strings.Repeat(" ", 8)
	for i, group := range wrapGroups(items, " · ", t.width-len(hang)) {
		parts := make([]string, len(group))
		for j, k := range group {
			parts[j] = items[k]
			if k < len(bad) && bad[k] {
				parts[j] = t.p.Paint(items[k], iostreams.Red)
			}
		}
		head := hang
		if i == 0 {
			head = indent + t.p.Bold(pad(label, 8))
		}
		t.line(head + strings.Join(parts, " · "))
	}
}

// verdict closes the report with the outcome of the whole verification.
func (t *textReport) verdict(s *Summary) {
	t.line(t.p.Paint(strings.Repeat("━", t.width), verdictColor(s.Passed)))
	t.line(t.p.badge("  "+passWord(s.Passed)+"  ", s.Passed) + " " + verdictText(s))
}

// barString draws n of most as block characters in width columns, with
// eighth blocks for the remainder so small differences stay visible.
func barString(n, most, width int) string {
	if n <= 0 || most <= 0 {
		return ""
	}
	eighths := n * width * 8 / most
	if eighths == 0 {
		eighths = 1 // never hide a backend that served something
	}
	partial := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	return strings.Repeat("█", eighths/8) + partial[eighths%8]
}

// wrapWords joins items with sep into lines no wider than width; an item
// longer than width gets a line of its own.
func wrapWords(items []string, sep string, width int) []string {
	var lines []string
	for _, group := range wrapGroups(items, sep, width) {
		parts := make([]string, len(group))
		for j, k := range group {
			parts[j] = items[k]
		}
		lines = append(lines, strings.Join(parts, sep))
	}
	return lines
}

// wrapGroups splits items into lines no wider than width when joined with
// sep, returning the item indexes of each line, so callers can style items
// after measuring them plain.
func wrapGroups(items []string, sep string, width int) [][]int {
	var groups [][]int
	var cur []int
	curW := 0
	for i, it := range items {
		w := textWidth(it)
		if len(cur) > 0 && curW+textWidth(sep)+w > width {
			groups = append(groups, cur)
			cur, curW = nil, 0
		}
		if len(cur) > 0 {
			curW += textWidth(sep)
		}
		cur = append(cur, i)
		curW += w
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// wrapFact wraps a fact's " · " parts into lines no wider than width, a
// part too wide for a line of its own at its spaces.
func wrapFact(v string, width int) []string {
	var out []string
	for _, l := range wrapWords(strings.Split(v, " · "), " · ", width) {
		if textWidth(l) <= width {
			out = append(out, l)
			continue
		}
		for _, w := range wrapWords(strings.Fields(l), " ", width) {
			out = append(out, truncate(w, width))
		}
	}
	return out
}

// textWidth counts columns, taking every rune as one column.
func textWidth(s string) int { return utf8.RuneCountInString(s) }

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(w-textWidth(s), 0))
}

func padLeft(s string, w int) string {
	return strings.Repeat(" ", max(w-textWidth(s), 0)) + s
}

// truncate shortens s to w columns, ending in "…" when cut.
func truncate(s string, w int) string {
	if w < 1 || textWidth(s) <= w {
		return s
	}
	r := []rune(s)
	return string(r[:w-1]) + "…"
}

func verdictColor(passed bool) string {
	if passed {
		return iostreams.Green
	}
	return iostreams.Red
}

func scenarioColor(sc *Scenario) string {
	if sc.Skipped {
		return iostreams.Yellow
	}
	return iostreams.Bold + ";" + verdictColor(sc.Passed)
}

// painter is the CLI's Painter with the report's verdict badge.
type painter struct{ iostreams.Painter }

// badge is the big verdict: bold white on green or red.
func (p painter) badge(s string, passed bool) string {
	if passed {
		return p.Paint(s, "1;97;42")
	}
	return p.Paint(s, "1;97;41")
}

// driverText says what ran the nodes, why, and where: "netns (auto:
// ranks first and can run here) · proxy 198.18.0.2:41234 · clients
// 198.19.X.Y on 4 client hosts".
func driverText(r *Run) string {
	if r.Driver == "" {
		return ""
	}
	parts := []string{r.Driver}
	if r.DriverWhy != "" {
		parts[0] += " (" + r.DriverWhy + ")"
	}
	if r.Hosts.Proxy != "" {
		parts = append(parts, "proxy "+r.Hosts.Proxy)
	}
	if len(r.Hosts.Backends) > 0 {
		ids := slices.Sorted(maps.Keys(r.Hosts.Backends))
		var bs []string
		for _, id := range ids {
			bs = append(bs, id+" "+r.Hosts.Backends[id])
		}
		parts = append(parts, "backends "+strings.Join(bs, ", "))
	}
	if r.Hosts.Clients != "" {
		parts = append(parts, "clients "+r.Hosts.Clients)
	}
	return strings.Join(parts, " · ")
}

// imagesText names the images the nodes ran from, with the short image
// ID the docker CLI shows: "proxy haproxy:2.6 (0123456789ab) · node
// wslb-node:4f1c…".
func imagesText(r *Run) string {
	var parts []string
	for _, im := range r.Images {
		s := im.Role + " " + im.Ref
		if id := shortImageID(im.ID); id != "" {
			s += " (" + id + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " · ")
}

// shortImageID is an image ID's first 12 hex digits, without "sha256:".
func shortImageID(id string) string {
	_, hex, ok := strings.Cut(id, ":")
	if !ok {
		hex = id
	}
	return hex[:min(len(hex), 12)]
}
