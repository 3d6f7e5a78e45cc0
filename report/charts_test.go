package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Value labels of the backend chart must end inside the chart, whatever
// the size of the counts.
func TestBackendChartValueLabelsFit(t *testing.T) {
	tests := []struct {
		name  string
		conns []int
	}{
		{"small", []int{3, 5, 9}},
		{"four digits", []int{800, 700, 1100}},
		{"six digits", []int{123456, 99999, 100000}},
		{"one backend takes all", []int{0, 0, 1000000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Run{}
			for i, n := range tc.conns {
				r.Backends = append(r.Backends, &Backend{ID: string(rune('a' + i)), Weight: 1, Connections: n})
			}
			c := backendChart(r, map[string]string{})
			values := 0
			for _, tx := range c.Texts {
				if tx.Class != "value" {
					continue
				}
				values++
				end := tx.X + float64(textWidth(tx.Text))*valueCharW
				require.LessOrEqual(t, end, float64(c.Width), "label %q runs past the chart", tx.Text)
			}
			require.Equal(t, len(tc.conns), values)
			for _, rect := range c.Rects {
				require.LessOrEqual(t, rect.X+rect.W, float64(c.Width)-float64(textWidth("1 (100.0%)"))*valueCharW, "a bar runs into the value labels")
			}
		})
	}
}

// The timeline plots connections served per interval when samples carry
// them: connections that open and close between two samples still show,
// where the open count at the sample reads zero.
func TestTimelineChartPlotsServedConnections(t *testing.T) {
	sample := func(sec int, open, served int) Event {
		return Event{At: time.Duration(sec) * 250 * time.Millisecond, Kind: EventSample,
			Connections: map[string]int{"a": open}, Served: map[string]int{"a": served}, Interval: 250 * time.Millisecond}
	}
	tests := []struct {
		name     string
		timeline []Event
		axis     string
		caption  string
		peak     int
	}{
		{
			name:     "served per interval",
			timeline: []Event{sample(1, 0, 40), sample(2, 0, 120), {At: 600 * time.Millisecond, Kind: EventReload, Connections: map[string]int{"a": 3}}, sample(3, 1, 80)},
			axis:     "connections served per 250ms",
			caption:  "Connections each backend served per 250ms interval",
			peak:     120,
		},
		{
			name: "reports without served counts plot open connections",
			timeline: []Event{{At: time.Second, Kind: EventSample, Connections: map[string]int{"a": 7}},
				{At: 2 * time.Second, Kind: EventSample, Connections: map[string]int{"a": 9}}},
			axis:    "open connections",
			caption: "Open connections per backend",
			peak:    9,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Run{Duration: time.Second, Timeline: tc.timeline, Backends: []*Backend{{ID: "a"}}}
			c := timelineChart(r, []string{"a"}, map[string]string{"a": "#000"})
			var texts []string
			for _, tx := range c.Texts {
				texts = append(texts, tx.Text)
			}
			require.Contains(t, texts, tc.axis)
			require.Contains(t, seriesOf(r).caption(), tc.caption)
			// One point per sample, the highest at the peak value: the
			// topmost circle lies at the top of the plot scaled to the peak.
			samples := 0
			for _, ev := range tc.timeline {
				if ev.Kind == EventSample {
					samples++
				}
			}
			require.Len(t, c.Circles, samples)
			top := c.Circles[0]
			for _, ci := range c.Circles {
				if ci.Y < top.Y {
					top = ci
				}
			}
			require.Contains(t, top.Title, fmt.Sprintf(": %d ", tc.peak))
		})
	}
}
