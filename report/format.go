package report

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// detailLimit caps how many details of a failed scenario the terminal
// report lists before "… and N more".
const detailLimit = 10

// moreDetail matches a detail that stands for details a scenario left out
// itself ("… and 180 more", as verify caps its lists).
var moreDetail = regexp.MustCompile(`^… and ([0-9][0-9,]*) more$`)

// hiddenDetails counts what the details not shown stand for: one each,
// and N for a detail that says "… and N more", so that the count the
// report prints is that of the offenders, not of the lines.
func hiddenDetails(details []string) int64 {
	var n int64
	for _, d := range details {
		if m := moreDetail.FindStringSubmatch(d); m != nil {
			if v, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64); err == nil {
				n += v
				continue
			}
		}
		n++
	}
	return n
}

// ms converts a duration to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// formatLatency prints a round-trip time with a precision that suits its
// magnitude: "0.14 ms", "12.3 ms", "1.20 s".
func formatLatency(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", ms(d))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", ms(d))
	default:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
}

// formatDuration prints a scenario or run length rounded for reading.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}

// formatValue prints a metric value: integers without decimals, other
// numbers with four significant digits, NaN and infinities as "n/a".
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return formatInt(int64(v))
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// formatMetric prints a value with its unit: "100%", "3 clients". The
// unit is left out when the metric's name already says what it counts, so
// that "sticky clients 3" does not read "sticky clients 3 clients".
func formatMetric(m Metric) string {
	v := formatValue(m.Value)
	switch {
	case m.Unit == "":
		return v
	case m.Unit == "%":
		return v + "%"
	case namesUnit(m.Name, m.Unit):
		return v
	default:
		return v + " " + m.Unit
	}
}

// namesUnit reports whether name contains unit as a word, in the singular
// or the plural ("clients on ws1" names "clients").
func namesUnit(name, unit string) bool {
	one := strings.TrimSuffix(unit, "s")
	for _, w := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '-'
	}) {
		if w == unit || w == one || w == one+"s" {
			return true
		}
	}
	return false
}

// formatInt prints an integer with thousands separators: 12,345.
func formatInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// formatPercent prints part/total as a percentage with one decimal.
func formatPercent(part, total int) string {
	if total <= 0 {
		return "0.0%"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(total))
}

// affinityText describes what clients were keyed on: "cookie SERVERID".
func affinityText(a Affinity) string {
	mode := a.Mode
	if mode == "" {
		mode = "none"
	}
	if a.Key == "" {
		return mode
	}
	return mode + " " + a.Key
}

// loadText describes the load a run applied.
func loadText(r *Run) string {
	return fmt.Sprintf("%s clients × %s connections × %s messages",
		formatInt(int64(r.Clients)), formatInt(int64(r.Reconnects+1)), formatInt(int64(r.Messages)))
}

// proxyTitle is the proxy and its version: "haproxy 2.6.12".
func proxyTitle(r *Run) string {
	name := r.Proxy
	if name == "" {
		name = "proxy"
	}
	if r.ProxyVersion == "" {
		return name
	}
	return name + " " + r.ProxyVersion
}

// passWord is the verdict of a check.
func passWord(passed bool) string {
	if passed {
		return "PASS"
	}
	return "FAIL"
}

// scenarioWord is a scenario's verdict; skipped scenarios neither pass nor fail.
func scenarioWord(sc *Scenario) string {
	if sc.Skipped {
		return "SKIP"
	}
	return passWord(sc.Passed)
}

// failedScenarios names the scenarios of a run that failed, in run order.
func failedScenarios(r *Run) []string {
	var names []string
	for _, sc := range r.Scenarios {
		if sc != nil && !sc.Skipped && !sc.Passed {
			names = append(names, sc.Name)
		}
	}
	return names
}

// verdictText is the one-line verdict of a whole Summary, e.g.
// "haproxy PASS · nginx FAIL (stickiness)".
func verdictText(s *Summary) string {
	if len(s.Runs) == 0 {
		return "no proxy was verified"
	}
	parts := make([]string, 0, len(s.Runs))
	for _, r := range s.Runs {
		if r == nil {
			continue
		}
		p := r.Proxy + " " + passWord(r.Passed)
		if failed := failedScenarios(r); !r.Passed && len(failed) > 0 {
			p += " (" + strings.Join(failed, ", ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " · ")
}

// totalConnections sums the connections served by every backend.
func totalConnections(bs []*Backend) int {
	n := 0
	for _, b := range bs {
		if b != nil {
			n += b.Connections
		}
	}
	return n
}

// backendIDs lists backend ids in the run's order, then any id that only
// appears in the timeline, sorted, so every series has a stable colour.
func backendIDs(r *Run) []string {
	seen := map[string]bool{}
	var ids []string
	for _, b := range r.Backends {
		if b != nil && !seen[b.ID] {
			seen[b.ID] = true
			ids = append(ids, b.ID)
		}
	}
	var extra []string
	for _, ev := range r.Timeline {
		for id := range ev.Connections {
			if !seen[id] {
				seen[id] = true
				extra = append(extra, id)
			}
		}
	}
	sort.Strings(extra)
	return append(ids, extra...)
}
