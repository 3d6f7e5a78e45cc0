package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"sync"
	"time"
)

//go:embed html.tmpl
var htmlSource string

// htmlTemplate is parsed on first use rather than at start, which every
// wslb process (an echo backend too) would pay for: about 70 KB and 1,400
// allocations.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").
		Option("missingkey=error").
		Funcs(template.FuncMap{"num": num}).
		Parse(htmlSource))
})

// WriteHTML writes s as one self-contained HTML page: inline CSS and SVG
// charts, no scripts and no external requests, so it can be archived or
// attached to a CI run as is. The page shows the verdict, then per run the
// scenarios, connections per backend, the round-trip histogram, the
// failover timeline and the errors. The page is rendered completely
// before anything is written, so w never receives half a report.
func WriteHTML(w io.Writer, s *Summary) error {
	if s == nil {
		return errors.New("write html report: nil summary")
	}
	var buf bytes.Buffer
	if err := htmlTemplate().Execute(&buf, newHTMLView(s)); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}

type htmlView struct {
	Source   string
	Passed   bool
	Headline string // "All 2 runs passed"
	Verdict  string // per-run verdicts
	Runs     []htmlRun
}

type htmlRun struct {
	Anchor     string
	Title      string
	Passed     bool
	Facts      []htmlFact
	Scenarios  []htmlScenario
	Backends   *svgChart
	Legend     []htmlLegend
	RTT        *svgChart
	RTTStats   []htmlFact
	RTTSamples string
	LoadStats  []htmlFact
	Timeline   *svgChart
	// TimelineCaption says what the timeline plots.
	TimelineCaption string
	Events          []htmlEvent
	Errors          []htmlCount
	Samples         []string
}

type htmlFact struct{ Name, Value string }

type htmlLegend struct{ Name, Color string }

type htmlScenario struct {
	Name    string
	Word    string // PASS | FAIL | SKIP
	Class   string // pass | fail | skip
	Summary string
	Elapsed string
	Metrics []htmlFact
	Details []string // shown
	More    []string // folded away
}

type htmlEvent struct{ At, Label, Color string }

type htmlCount struct {
	Name  string
	Value string
	Bad   bool
}

func newHTMLView(s *Summary) htmlView {
	v := htmlView{Source: s.Source, Passed: s.Passed, Verdict: verdictText(s)}
	runs, failed := 0, 0
	for _, r := range s.Runs {
		if r == nil {
			continue
		}
		runs++
		if !r.Passed {
			failed++
		}
		v.Runs = append(v.Runs, newHTMLRun(r, len(v.Runs)))
	}
	switch {
	case runs == 0:
		v.Headline = "No proxy was verified"
	case failed == 0 && s.Passed:
		v.Headline = plural(runs, "run") + " passed"
		if runs > 1 {
			v.Headline = "All " + v.Headline
		}
	case failed == 0:
		v.Headline = "Verification failed"
	default:
		v.Headline = fmt.Sprintf("%d of %s failed", failed, plural(runs, "run"))
	}
	return v
}

func newHTMLRun(r *Run, i int) htmlRun {
	ids := backendIDs(r)
	colors := make(map[string]string, len(ids))
	hr := htmlRun{Anchor: fmt.Sprintf("run-%d", i+1), Title: proxyTitle(r), Passed: r.Passed}
	for j, id := range ids {
		colors[id] = backendColor(j)
		hr.Legend = append(hr.Legend, htmlLegend{Name: id, Color: colors[id]})
	}

	hr.Facts = []htmlFact{
		{"Pool", r.Pool},
		{"Affinity", affinityText(r.Affinity)},
		{"Driver", driverText(r)},
		{"Images", imagesText(r)},
		{"Broker", r.Broker},
		{"Load", loadText(r)},
		{"Duration", formatDuration(r.Duration)},
		{"Stickiness", fmt.Sprintf("%.1f%%", 100*r.Stickiness)},
	}
	if !r.Started.IsZero() {
		hr.Facts = append(hr.Facts, htmlFact{"Started", r.Started.UTC().Format(time.RFC3339)})
	}

	for _, sc := range r.Scenarios {
		if sc == nil {
			continue
		}
		hs := htmlScenario{Name: sc.Name, Word: scenarioWord(sc), Summary: sc.Summary}
		switch hs.Word {
		case "PASS":
			hs.Class = "pass"
		case "FAIL":
			hs.Class = "fail"
		default:
			hs.Class = "skip"
		}
		if sc.Elapsed > 0 {
			hs.Elapsed = formatDuration(sc.Elapsed)
		}
		for _, m := range sc.Metrics {
			hs.Metrics = append(hs.Metrics, htmlFact{m.Name, formatMetric(m)})
		}
		hs.Details = sc.Details
		if len(hs.Details) > detailLimit {
			hs.Details, hs.More = sc.Details[:detailLimit], sc.Details[detailLimit:]
		}
		hr.Scenarios = append(hr.Scenarios, hs)
	}

	hr.Backends = backendChart(r, colors)
	hr.RTT = rttChart(r.RTT)
	if r.RTT.Samples > 0 || r.RTT.Max > 0 {
		hr.RTTStats = []htmlFact{
			{"p50", formatLatency(r.RTT.P50)},
			{"p90", formatLatency(r.RTT.P90)},
			{"p99", formatLatency(r.RTT.P99)},
			{"max", formatLatency(r.RTT.Max)},
		}
		if r.DirectRTT.Samples > 0 {
			hr.RTTStats = append(hr.RTTStats, htmlFact{"direct p50", formatLatency(r.DirectRTT.P50)})
		}
		if added, ok := r.ProxyAdded(); ok {
			hr.RTTStats = append(hr.RTTStats, htmlFact{"proxy adds", formatLatency(added)})
		}
		hr.RTTSamples = formatInt(r.RTT.Samples)
	}
	if ld := r.Load; ld.Messages > 0 {
		hr.LoadStats = []htmlFact{{"throughput", formatInt(int64(math.Round(ld.Throughput()))) + " msg/s"}}
		if ld.InFlight > 0 {
			hr.LoadStats = append(hr.LoadStats, htmlFact{"in flight", formatInt(int64(ld.InFlight))})
		}
		if q := ld.Queueing; q.Samples > 0 {
			hr.LoadStats = append(hr.LoadStats, htmlFact{"queueing p50", formatLatency(q.P50)}, htmlFact{"queueing p99", formatLatency(q.P99)})
		}
	}
	hr.Timeline = timelineChart(r, ids, colors)
	hr.TimelineCaption = seriesOf(r).caption()
	for _, ev := range r.Timeline {
		if ev.Kind == EventSample {
			continue
		}
		hr.Events = append(hr.Events, htmlEvent{At: formatDuration(ev.At), Label: eventLabel(ev), Color: eventColor(ev.Kind)})
	}

	e := r.Errors
	hr.Errors = []htmlCount{
		{"Handshake errors", formatInt(int64(e.Handshake)), e.Handshake > 0},
		{"Message errors", formatInt(int64(e.Message)), e.Message > 0},
		{"Dropped connections", formatInt(int64(e.Dropped)), e.Dropped > 0},
		{"Messages sent", formatInt(e.Sent), false},
		{"Messages echoed", formatInt(e.Echoed), e.Echoed < e.Sent},
	}
	hr.Samples = e.Samples
	return hr
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
