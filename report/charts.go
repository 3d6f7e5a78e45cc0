package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The HTML report's charts are SVG drawn from shapes computed here; the
// template only places them, escaping every value.

type svgChart struct {
	Width, Height int
	Label         string // accessible description
	Rects         []svgRect
	Lines         []svgLine
	Polylines     []svgPolyline
	Circles       []svgCircle
	Texts         []svgText
}

type svgRect struct {
	X, Y, W, H float64
	Fill       string
	Title      string // tooltip
}

type svgLine struct {
	X1, Y1, X2, Y2 float64
	Stroke         string
	Width          float64
	Dash           string
}

type svgPolyline struct {
	Points string
	Stroke string
}

type svgCircle struct {
	X, Y, R float64
	Fill    string
	Title   string
}

type svgText struct {
	X, Y   float64
	Text   string
	Anchor string // start | middle | end
	Class  string // label | value | tick | strong
	Fill   string
	// Transform is an SVG transform, e.g. a rotation for an axis title.
	Transform string
}

// Colours shared by the page and the charts. Pass/fail colours meet WCAG
// AA with white text.
const (
	colPass   = "#1a7f37"
	colFail   = "#cf222e"
	colSkip   = "#9a6700"
	colAxis   = "#d0d7de"
	colMuted  = "#57606a"
	colText   = "#1f2328"
	colReload = "#8250df"
	colRTT    = "#0969da"
)

// palette colours backends; it avoids the pass/fail green and red so a
// backend never reads as a verdict.
var palette = []string{"#0969da", "#d97706", "#0891b2", "#db2777", "#4d5bd1", "#92400e", "#0f766e", "#6e7781"}

func backendColor(i int) string { return palette[i%len(palette)] }

func eventColor(kind string) string {
	switch kind {
	case EventBackendDown:
		return colFail
	case EventBackendUp:
		return colPass
	case EventReload:
		return colReload
	default:
		return colMuted
	}
}

// backendChart draws one horizontal bar per backend, scaled to the busiest.
func backendChart(r *Run, colors map[string]string) *svgChart {
	var bs []*Backend
	for _, b := range r.Backends {
		if b != nil {
			bs = append(bs, b)
		}
	}
	if len(bs) == 0 {
		return nil
	}
	const (
		width  = 440
		labelW = 110
		gap    = 10 // between the bar track and its value label
		margin = 4  // right of the value label
		rowH   = 40
		barH   = 20
		top    = 6
	)
	total := totalConnections(bs)
	most := 0
	for _, b := range bs {
		most = max(most, b.Connections)
	}
	// The value column is as wide as its longest label ("12,345 (42.3%)"),
	// so large counts are never cut off at the chart's edge.
	values := make([]string, len(bs))
	valueW := 0.0
	for i, b := range bs {
		values[i] = formatInt(int64(b.Connections)) + " (" + formatPercent(b.Connections, total) + ")"
		valueW = math.Max(valueW, float64(textWidth(values[i]))*valueCharW)
	}
	valueW += gap + margin
	c := &svgChart{Width: width, Height: top*2 + rowH*len(bs), Label: "Connections per backend"}
	plotW := float64(width-labelW) - valueW
	for i, b := range bs {
		y := float64(top + i*rowH)
		mid := y + rowH/2
		tag := fmt.Sprintf("weight %d", b.Weight)
		if b.Backup {
			tag += " · backup"
		}
		c.Texts = append(c.Texts,
			svgText{X: 0, Y: mid - 3, Text: truncate(b.ID, 14), Class: "strong", Anchor: "start", Fill: colText},
			svgText{X: 0, Y: mid + 12, Text: tag, Class: "tick", Anchor: "start", Fill: colMuted},
		)
		// The track shows the full scale; the bar the backend's share.
		c.Rects = append(c.Rects, svgRect{X: labelW, Y: mid - barH/2, W: plotW, H: barH, Fill: "#eef1f4"})
		w := 0.0
		if most > 0 {
			w = plotW * float64(b.Connections) / float64(most)
		}
		if b.Connections > 0 {
			w = math.Max(w, 2)
		}
		c.Rects = append(c.Rects, svgRect{
			X: labelW, Y: mid - barH/2, W: w, H: barH, Fill: colors[b.ID],
			Title: fmt.Sprintf("%s: %d connections, %d clients", b.ID, b.Connections, b.Clients),
		})
		c.Texts = append(c.Texts, svgText{
			X: float64(width) - valueW + gap, Y: mid + 4, Anchor: "start", Class: "value", Fill: colText,
			Text: values[i],
		})
	}
	return c
}

// maxBuckets caps the histogram's bars; finer histograms are merged.
const maxBuckets = 60

// rttChart draws the round-trip histogram with markers at p50 and p99.
func rttChart(l Latency) *svgChart {
	buckets := trimBuckets(l.Histogram)
	for len(buckets) > maxBuckets {
		buckets = mergePairs(buckets)
	}
	if len(buckets) == 0 {
		return nil
	}
	const (
		width, height = 440, 240
		left, right   = 48, 12
		top, bottom   = 22, 44
	)
	var most int64
	for _, b := range buckets {
		most = max(most, b.Count)
	}
	yMax := niceCeil(float64(most))
	plotW := float64(width - left - right)
	plotH := float64(height - top - bottom)
	c := &svgChart{Width: width, Height: height, Label: "Round-trip time histogram"}
	c.axes(left, top, plotW, plotH, yMax, 4, formatTick)

	slot := plotW / float64(len(buckets))
	gap := math.Min(2, slot*0.2)
	lower := time.Duration(0)
	for i, b := range buckets {
		h := 0.0
		if yMax > 0 {
			h = plotH * float64(b.Count) / yMax
		}
		if b.Count > 0 {
			h = math.Max(h, 1)
		}
		c.Rects = append(c.Rects, svgRect{
			X: float64(left) + float64(i)*slot + gap/2, Y: float64(top) + plotH - h, W: slot - gap, H: h, Fill: colRTT,
			Title: fmt.Sprintf("%s – %s: %s samples", formatLatency(lower), formatLatency(b.UpperBound), formatInt(b.Count)),
		})
		lower = b.UpperBound
	}
	// Labels at bucket upper bounds, every step buckets, skipping any that
	// would run into the previous one.
	step := max(1, (len(buckets)+5)/6)
	lastEnd := math.Inf(-1)
	for i := step - 1; i < len(buckets); i += step {
		x := float64(left) + float64(i+1)*slot
		label := formatLatency(buckets[i].UpperBound)
		w := float64(textWidth(label)) * tickCharW
		anchor, x0 := "middle", x-w/2
		if x+w/2 > width {
			anchor, x0 = "end", x-w // keep the last label inside the chart
		}
		if x0 < lastEnd+6 {
			continue
		}
		lastEnd = x0 + w
		c.Texts = append(c.Texts, svgText{X: x, Y: float64(top) + plotH + 16, Text: label, Anchor: anchor, Class: "tick", Fill: colMuted})
	}
	c.Texts = append(c.Texts, svgText{X: float64(left) + plotW/2, Y: height - 6, Text: "round-trip time (bucket upper bound)", Anchor: "middle", Class: "tick", Fill: colMuted})
	c.Texts = append(c.Texts, svgText{X: 0, Y: 12, Text: "samples", Anchor: "start", Class: "tick", Fill: colMuted})

	for k, mark := range []struct {
		name string
		at   time.Duration
	}{{"p50", l.P50}, {"p99", l.P99}} {
		i := bucketIndex(buckets, mark.at)
		if i < 0 {
			continue
		}
		x := float64(left) + (float64(i)+0.5)*slot
		// p99 sits a line lower so the two labels never overlap; a label
		// near the right edge goes left of its line.
		y := float64(top) + 6 + float64(k*14)
		label := mark.name + " " + formatLatency(mark.at)
		tx, anchor := x+4, "start"
		if x+4+float64(textWidth(label))*tickCharW > width {
			tx, anchor = x-4, "end"
		}
		c.Lines = append(c.Lines, svgLine{X1: x, Y1: float64(top) - 4, X2: x, Y2: float64(top) + plotH, Stroke: colText, Width: 1, Dash: "4 3"})
		c.Texts = append(c.Texts, svgText{X: tx, Y: y, Text: label, Anchor: anchor, Class: "tick", Fill: colText})
	}
	return c
}

// trimBuckets drops empty buckets at both ends.
func trimBuckets(bs []Bucket) []Bucket {
	lo, hi := 0, len(bs)
	for lo < hi && bs[lo].Count == 0 {
		lo++
	}
	for hi > lo && bs[hi-1].Count == 0 {
		hi--
	}
	return bs[lo:hi]
}

// mergePairs halves the number of buckets by adding neighbours.
func mergePairs(bs []Bucket) []Bucket {
	out := make([]Bucket, 0, (len(bs)+1)/2)
	for i := 0; i < len(bs); i += 2 {
		b := bs[i]
		if i+1 < len(bs) {
			b.UpperBound = bs[i+1].UpperBound
			b.Count += bs[i+1].Count
		}
		out = append(out, b)
	}
	return out
}

// bucketIndex finds the bucket holding d, or -1 when d is outside them.
func bucketIndex(bs []Bucket, d time.Duration) int {
	if d <= 0 {
		return -1
	}
	for i, b := range bs {
		if d <= b.UpperBound {
			return i
		}
	}
	return -1
}

// timelineSeries says what the timeline plots: the connections each
// backend served per sampling interval when the samples carry them, else
// (older reports) the connections open at each event.
type timelineSeries struct {
	served   bool
	interval time.Duration // of the first sample with Served
}

func seriesOf(r *Run) timelineSeries {
	for _, ev := range r.Timeline {
		if ev.Served != nil {
			return timelineSeries{served: true, interval: ev.Interval}
		}
	}
	return timelineSeries{}
}

// point returns the value of backend id at ev and where on the time axis
// it belongs, or ok false when ev is no point of the series.
func (ts timelineSeries) point(ev Event, id string) (at time.Duration, n int, ok bool) {
	if ts.served {
		if ev.Served == nil {
			return 0, 0, false
		}
		// A count over an interval sits at the interval's middle.
		return max(ev.At-ev.Interval/2, 0), ev.Served[id], true
	}
	if len(ev.Connections) == 0 {
		return 0, 0, false
	}
	// A backend absent from a sample has no connections then.
	return ev.At, ev.Connections[id], true
}

// axisLabel names the y axis.
func (ts timelineSeries) axisLabel() string {
	switch {
	case !ts.served:
		return "open connections"
	case ts.interval > 0:
		return "connections served per " + formatDuration(ts.interval)
	default:
		return "connections served per interval"
	}
}

// caption explains the chart under it.
func (ts timelineSeries) caption() string {
	if !ts.served {
		return "Open connections per backend over the run; dashed lines mark events."
	}
	per := "sampling interval"
	if ts.interval > 0 {
		per = formatDuration(ts.interval) + " interval"
	}
	return "Connections each backend served per " + per + " (open at its start or opened during it); dashed lines mark events."
}

// timelineChart draws per backend the connections served per sampling
// interval (or, for reports without them, the open connections) over the
// run, with a marker for every event that is not a plain sample.
func timelineChart(r *Run, ids []string, colors map[string]string) *svgChart {
	if len(r.Timeline) == 0 {
		return nil
	}
	const (
		width, height = 1060, 320
		left, right   = 64, 20
		top, bottom   = 20 + labelRows*labelRowH, 40
	)
	ts := seriesOf(r)
	end := r.Duration
	most := 0
	for _, ev := range r.Timeline {
		end = max(end, ev.At)
		for _, id := range ids {
			if _, n, ok := ts.point(ev, id); ok {
				most = max(most, n)
			}
		}
	}
	if end <= 0 {
		end = time.Second
	}
	yMax := niceCeil(float64(most))
	plotW := float64(width - left - right)
	plotH := float64(height - top - bottom)
	c := &svgChart{Width: width, Height: height, Label: "Connections per backend over time, with failover and reload events"}
	c.axes(left, top, plotW, plotH, yMax, 4, formatTick)
	// The y axis title runs up along the axis, left of its tick labels.
	yMid := float64(top) + plotH/2
	c.Texts = append(c.Texts, svgText{X: 12, Y: yMid, Text: ts.axisLabel(), Anchor: "middle", Class: "tick", Fill: colMuted,
		Transform: "rotate(-90 12 " + num(yMid) + ")"})

	xOf := func(d time.Duration) float64 { return float64(left) + plotW*float64(d)/float64(end) }
	yOf := func(n int) float64 {
		if yMax <= 0 {
			return float64(top) + plotH
		}
		return float64(top) + plotH - plotH*float64(n)/yMax
	}

	// Time ticks at a round step, at most about eight.
	step := niceStep(end.Seconds(), 8)
	for i := 0; float64(i)*step <= end.Seconds()+1e-9; i++ {
		t := math.Round(float64(i)*step*1e6) / 1e6
		x := xOf(time.Duration(t * float64(time.Second)))
		c.Lines = append(c.Lines, svgLine{X1: x, Y1: float64(top) + plotH, X2: x, Y2: float64(top) + plotH + 4, Stroke: colAxis, Width: 1})
		c.Texts = append(c.Texts, svgText{X: x, Y: float64(top) + plotH + 17, Text: formatTick(t) + "s", Anchor: "middle", Class: "tick", Fill: colMuted})
	}
	c.Texts = append(c.Texts, svgText{X: float64(left) + plotW/2, Y: height - 4, Text: "time since start", Anchor: "middle", Class: "tick", Fill: colMuted})

	// Event markers first, so the series are drawn over them. Each label
	// takes the highest row where it does not run into the previous label
	// of that row, so events close in time stay readable.
	var rowEnd [labelRows]float64
	for i := range rowEnd {
		rowEnd[i] = math.Inf(-1)
	}
	for _, ev := range r.Timeline {
		if ev.Kind == EventSample {
			continue
		}
		x := xOf(ev.At)
		col := eventColor(ev.Kind)
		label := truncate(eventLabel(ev), 40)
		w := float64(textWidth(label)) * labelCharW
		anchor, x0 := "middle", x-w/2
		switch {
		case x0 < 0:
			anchor, x0 = "start", x
		case x+w/2 > width:
			anchor, x0 = "end", x-w
		}
		row := 0
		for i := range rowEnd {
			if x0 >= rowEnd[i]+10 {
				row = i
				break
			}
			if rowEnd[i] < rowEnd[row] {
				row = i
			}
		}
		rowEnd[row] = x0 + w
		y := float64(top) - 10 - float64(labelRows-1-row)*labelRowH
		c.Lines = append(c.Lines, svgLine{X1: x, Y1: y + 4, X2: x, Y2: float64(top) + plotH, Stroke: col, Width: 1.5, Dash: "5 4"})
		c.Texts = append(c.Texts, svgText{X: x, Y: y, Text: label, Anchor: anchor, Class: "strong", Fill: col})
	}

	for _, id := range ids {
		var pts []string
		for _, ev := range r.Timeline {
			at, n, ok := ts.point(ev, id)
			if !ok {
				continue
			}
			x, y := xOf(at), yOf(n)
			pts = append(pts, num(x)+","+num(y))
			title := fmt.Sprintf("%s at %s: %d open connections", id, formatDuration(ev.At), n)
			if ts.served {
				title = fmt.Sprintf("%s, %s–%s: %d connections served", id, formatDuration(ev.At-ev.Interval), formatDuration(ev.At), n)
			}
			c.Circles = append(c.Circles, svgCircle{X: x, Y: y, R: 3, Fill: colors[id], Title: title})
		}
		if len(pts) > 1 {
			c.Polylines = append(c.Polylines, svgPolyline{Points: strings.Join(pts, " "), Stroke: colors[id]})
		}
	}
	return c
}

// Event labels above the timeline: rows, row height and the estimated
// width of a character of the bold 12px label font, in chart units.
const (
	labelRows  = 3
	labelRowH  = 14
	labelCharW = 7.0
	tickCharW  = 6.2 // 11px tick labels
	// valueCharW is a generous width of a character of the 13px semi-bold
	// value labels: digits there are about 7.2 units wide.
	valueCharW = 7.8
)

// eventLabel names an event: its kind and detail, or the detail alone
// when it already says what happened ("graceful reload").
func eventLabel(ev Event) string {
	switch {
	case ev.Detail == "":
		return ev.Kind
	case strings.Contains(ev.Detail, ev.Kind):
		return ev.Detail
	default:
		return ev.Kind + " " + ev.Detail
	}
}

// axes draws the plot frame with horizontal grid lines and y labels.
func (c *svgChart) axes(left, top int, plotW, plotH, yMax float64, ticks int, label func(float64) string) {
	for i := 0; i <= ticks; i++ {
		v := yMax * float64(i) / float64(ticks)
		y := float64(top) + plotH - plotH*float64(i)/float64(ticks)
		stroke := "#eaeef2"
		if i == 0 {
			stroke = colAxis
		}
		c.Lines = append(c.Lines, svgLine{X1: float64(left), Y1: y, X2: float64(left) + plotW, Y2: y, Stroke: stroke, Width: 1})
		c.Texts = append(c.Texts, svgText{X: float64(left) - 8, Y: y + 4, Text: label(v), Anchor: "end", Class: "tick", Fill: colMuted})
	}
}

// niceCeil rounds v up to a round axis maximum that four ticks divide
// into whole, readable numbers.
func niceCeil(v float64) float64 {
	if v <= 40 {
		return math.Max(4, math.Ceil(v/4)*4)
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 3, 4, 5, 6, 8, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// niceStep picks a round tick step so span is cut into at most n steps.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// formatTick prints an axis value without needless decimals.
func formatTick(v float64) string {
	if v == math.Trunc(v) {
		return formatInt(int64(v))
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// num prints an SVG coordinate with one decimal.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
