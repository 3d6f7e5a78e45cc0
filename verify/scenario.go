package verify

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wslb/wslb/report"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Scenario names, in the order they run.
const (
	ScenarioStickiness = "stickiness"
	ScenarioSpread     = "spread"
	ScenarioFailover   = "failover"
	ScenarioReload     = "reload"
	ScenarioIdle       = "idle"
	ScenarioBroadcast  = "broadcast"
)

// DefaultScenarios run when none are named; idle is opt-in (it needs a
// duration).
var DefaultScenarios = []string{ScenarioStickiness, ScenarioSpread, ScenarioFailover, ScenarioReload}

// SocketIOScenarios run when none are named with --client socketio.
var SocketIOScenarios = []string{ScenarioStickiness, ScenarioSpread, ScenarioBroadcast}

// maxDetails bounds the lines a scenario lists (offending clients, ...).
const maxDetails = 20

// Trace is what one client saw during one phase: the backend that served
// each successful connection, in order, and how many connections failed.
type Trace struct {
	Client   string   `json:"client"`
	Backends []string `json:"backends"`
	Errors   int      `json:"errors,omitempty"`
	// Failures are the first failed connections' errors; Unknown counts
	// the Socket.IO requests answered "Session ID unknown".
	Failures []string `json:"failures,omitempty"`
	Unknown  int      `json:"unknown,omitempty"`
}

// maxFailures bounds the errors a Trace keeps.
const maxFailures = 3

// why is the first failure, for a detail line ("" when none was kept).
func (t Trace) why() string {
	if len(t.Failures) == 0 {
		return ""
	}
	return ": " + t.Failures[0]
}

// distinct returns the distinct backends of t in first-seen order.
func (t Trace) distinct() []string {
	var out []string
	seen := map[string]bool{}
	for _, b := range t.Backends {
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}

// first returns the backend of the client's first successful connection.
func (t Trace) first() string {
	if len(t.Backends) == 0 {
		return ""
	}
	return t.Backends[0]
}

// BackendInfo is a backend the scenarios expect traffic on.
type BackendInfo struct {
	ID     string `json:"id"`
	Weight int    `json:"weight"`
	Backup bool   `json:"backup,omitempty"`
}

// EvalStickiness passes when at least min (0..1) of the clients had all
// their connections served by one backend. Clients with no successful
// connection count as not sticky: stickiness cannot be shown for them.
func EvalStickiness(traces []Trace, min float64) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioStickiness}
	if len(traces) == 0 {
		sc.Summary = "no clients ran"
		return sc
	}
	sticky, failed := 0, 0
	var offenders []string
	for _, t := range traces {
		d := t.distinct()
		switch {
		case len(d) == 1 && t.Errors == 0:
			sticky++
		case len(d) == 1:
			// One backend, but some connections failed: the client may have
			// been sent elsewhere had they succeeded.
			failed++
			offenders = append(offenders, fmt.Sprintf("%s: %d connections to %s, %d failed%s", t.Client, len(t.Backends), d[0], t.Errors, t.why()))
		case len(d) == 0:
			failed++
			offenders = append(offenders, fmt.Sprintf("%s: no connection succeeded (%d failed)%s", t.Client, t.Errors, t.why()))
		default:
			offenders = append(offenders, fmt.Sprintf("%s: hit %d backends: %s", t.Client, len(d), strings.Join(t.Backends, " → ")))
		}
	}
	n := len(traces)
	frac := float64(sticky) / float64(n)
	sc.Passed = frac >= min-1e-12
	sc.Summary = fmt.Sprintf("%d/%d clients stayed on one backend (%.1f%%)", sticky, n, 100*frac)
	if !sc.Passed {
		sc.Summary += fmt.Sprintf(", below the required %.1f%%", 100*min)
	}
	sc.Metrics = []report.Metric{
		{Name: "sticky clients", Value: float64(sticky), Unit: "clients"},
		{Name: "clients", Value: float64(n), Unit: "clients"},
		{Name: "stickiness", Value: 100 * frac, Unit: "%"},
		{Name: "clients on several backends", Value: float64(n - sticky - failed), Unit: "clients"},
		{Name: "clients with failed connections", Value: float64(failed), Unit: "clients"},
	}
	unknown := 0
	for _, t := range traces {
		unknown += t.Unknown
	}
	if unknown > 0 {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "Session ID unknown answers", Value: float64(unknown), Unit: "requests"})
		sc.Summary += fmt.Sprintf("; %d requests answered \"Session ID unknown\"", unknown)
	}
	sc.Details = limitDetails(offenders)
	return sc
}

// Stickiness returns the fraction of clients whose successful connections
// all reached one backend.
func Stickiness(traces []Trace) float64 {
	if len(traces) == 0 {
		return 0
	}
	sticky := 0
	for _, t := range traces {
		if len(t.distinct()) == 1 && t.Errors == 0 {
			sticky++
		}
	}
	return float64(sticky) / float64(len(traces))
}

// SpreadResult is the distribution of clients (by the backend of their
// first connection) over the backends.
type SpreadResult struct {
	Counts   map[string]int
	MaxMin   float64 // busiest over least busy healthy backend; +Inf if one got none
	ChiSq    float64
	PValue   float64 // goodness of fit against the weights
	Starved  []string
	Backups  []string // backup servers that received clients
	Unknown  []string // backends not in the pool (should not happen)
	Expected map[string]float64
}

// Spread counts clients per backend and tests the counts against the
// weights of the non-backup backends with a chi-square goodness-of-fit test.
func Spread(traces []Trace, backends []BackendInfo) SpreadResult {
	r := SpreadResult{Counts: map[string]int{}, Expected: map[string]float64{}}
	known := map[string]BackendInfo{}
	for _, b := range backends {
		known[b.ID] = b
		r.Counts[b.ID] = 0
	}
	total := 0
	for _, t := range traces {
		b := t.first()
		if b == "" {
			continue
		}
		r.Counts[b]++
		total++
	}
	var obs, exp []float64
	weightSum := 0
	for _, b := range backends {
		if !b.Backup {
			weightSum += max(b.Weight, 0)
		}
	}
	minC, maxC := math.MaxInt, 0
	for _, b := range backends {
		c := r.Counts[b.ID]
		if b.Backup {
			if c > 0 {
				r.Backups = append(r.Backups, b.ID)
			}
			continue
		}
		if b.Weight <= 0 {
			continue
		}
		if c == 0 {
			r.Starved = append(r.Starved, b.ID)
		}
		minC, maxC = min(minC, c), max(maxC, c)
		e := float64(total) * float64(b.Weight) / float64(weightSum)
		r.Expected[b.ID] = e
		obs = append(obs, float64(c))
		exp = append(exp, e)
	}
	for id := range r.Counts {
		if _, ok := known[id]; !ok {
			r.Unknown = append(r.Unknown, id)
		}
	}
	sort.Strings(r.Unknown)
	switch {
	case len(obs) == 0 || maxC == 0:
		r.MaxMin = 0
	case minC == 0:
		r.MaxMin = math.Inf(1)
	default:
		r.MaxMin = float64(maxC) / float64(minC)
	}
	r.PValue = 1
	if len(obs) > 1 && total > 0 {
		r.ChiSq = stat.ChiSquare(obs, exp)
		r.PValue = distuv.ChiSquared{K: float64(len(obs) - 1)}.Survival(r.ChiSq)
	}
	return r
}

// EvalSpread passes when every healthy (non-backup) backend received
// clients and no backup server did while all primaries were up. The
// chi-square p-value is reported, not judged: hash-based affinity spreads
// by the hash, and a handful of servers on a consistent-hash ring is
// legitimately uneven.
func EvalSpread(traces []Trace, backends []BackendInfo) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioSpread}
	r := Spread(traces, backends)
	if need := clientsForSpread(backends); len(traces) < need {
		return Skipped(ScenarioSpread, fmt.Sprintf("%d clients are too few to judge the spread over these weights; use --clients %d or more", len(traces), need))
	}
	var parts []string
	for _, b := range backends {
		parts = append(parts, fmt.Sprintf("%s=%d", b.ID, r.Counts[b.ID]))
	}
	sc.Passed = len(r.Starved) == 0 && len(r.Backups) == 0 && len(r.Unknown) == 0 && len(traces) > 0
	ratio := "∞"
	if !math.IsInf(r.MaxMin, 1) {
		ratio = fmt.Sprintf("%.2f", r.MaxMin)
	}
	sc.Summary = fmt.Sprintf("clients per backend %s; max/min %s; chi-square p=%.3g", strings.Join(parts, " "), ratio, r.PValue)
	for _, id := range r.Starved {
		sc.Details = append(sc.Details, fmt.Sprintf("%s received no client", id))
	}
	for _, id := range r.Backups {
		sc.Details = append(sc.Details, fmt.Sprintf("backup %s received %d clients while the primaries were up", id, r.Counts[id]))
	}
	for _, id := range r.Unknown {
		sc.Details = append(sc.Details, fmt.Sprintf("%d clients reached %q, which is not a server of the pool", r.Counts[id], id))
	}
	for _, b := range backends {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "clients on " + b.ID, Value: float64(r.Counts[b.ID]), Unit: "clients"})
	}
	maxMin := r.MaxMin
	if math.IsInf(maxMin, 1) {
		maxMin = -1 // JSON has no infinity; -1 means one backend got none
	}
	sc.Metrics = append(sc.Metrics,
		report.Metric{Name: "max/min ratio", Value: maxMin},
		report.Metric{Name: "chi-square", Value: r.ChiSq},
		report.Metric{Name: "chi-square p-value", Value: r.PValue},
	)
	return sc
}

// minExpected is the fewest clients every healthy backend must expect for
// a starved backend to mean something: with 10 expected, a fair hash
// starves one by chance with a probability of about e^-10.
const minExpected = 10

// clientsForSpread is how many clients the spread scenario needs so that
// every healthy backend expects at least minExpected of them.
func clientsForSpread(backends []BackendInfo) int {
	total, least := 0, 0
	for _, b := range backends {
		if b.Backup || b.Weight <= 0 {
			continue
		}
		total += b.Weight
		if least == 0 || b.Weight < least {
			least = b.Weight
		}
	}
	if least == 0 {
		return 0
	}
	return (minExpected*total + least - 1) / least
}

// FailoverInput is what the failover scenario observed.
type FailoverInput struct {
	// Failed is the backend that was stopped.
	Failed string
	// Before maps each client to the backend it stuck to before the stop.
	Before map[string]string
	// During are the clients' connections while Failed was down (after the
	// proxy noticed).
	During []Trace
	// After are the clients' connections once Failed was back.
	After []Trace
	// Strict says other clients must not move: consistent hashing or cookie
	// affinity. With map-based hashing (HAProxy's default hash-type) a down
	// server remaps everybody; that is reported, not failed.
	Strict bool
	// Settle is how long the proxy took to route around the stopped
	// backend (from the stop to the first stable probe).
	Settle time.Duration
	// Transient counts probe connections that failed between the stop and
	// the moment the proxy routed around the backend: health checks take
	// interval × fall to notice. Reported, not judged.
	Transient int
	// Unpinned says the pool has no affinity: nobody is expected to stick,
	// only to be served by the survivors without errors.
	Unpinned bool
	// Timers are the production failure detection settings; FastChecks
	// says this run checked every FastCheckInterval instead.
	Timers     Timers
	FastChecks bool
	// ProxyDown and ProxyUp are how long the proxy's own view (HAProxy's
	// runtime API) took to mark the backend down after the stop and up
	// after the return; zero when not observed.
	ProxyDown, ProxyUp time.Duration
}

// timerNotes adds to sc what the production timers would take next to what
// this run observed.
func timerNotes(sc *report.Scenario, in FailoverInput) {
	observed := fmt.Sprintf("observed in this run: clients routed around %s after %s", in.Failed, fmtDur(in.Settle))
	if in.ProxyDown > 0 {
		observed += fmt.Sprintf(" (the proxy marked it down after %s", fmtDur(in.ProxyDown))
		if in.ProxyUp > 0 {
			observed += fmt.Sprintf(", and up %s after its return", fmtDur(in.ProxyUp))
		}
		observed += ")"
	}
	if in.FastChecks && in.Timers.Known && in.Timers.Checks {
		observed += fmt.Sprintf(", with health checks every %s in this run (--production-timers keeps yours)", fmtDur(FastCheckInterval))
	}
	sc.Details = append(sc.Details, in.Timers.Describe()+"; "+observed)
	sc.Summary += fmt.Sprintf("; routed around in %s here (%s)", fmtDur(in.Settle), in.Timers.Short())
	if d, ok := in.Timers.RouteAround(); ok {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "route around with production timers", Value: float64(d) / float64(time.Millisecond), Unit: "ms"})
	}
	if in.ProxyDown > 0 {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "proxy marked it down after", Value: float64(in.ProxyDown) / float64(time.Millisecond), Unit: "ms"})
	}
	if in.ProxyUp > 0 {
		sc.Metrics = append(sc.Metrics, report.Metric{Name: "proxy marked it up after", Value: float64(in.ProxyUp) / float64(time.Millisecond), Unit: "ms"})
	}
}

// FailoverResult classifies the clients.
type FailoverResult struct {
	Orphans       int // clients of the failed backend
	Repinned      int // orphans that moved to one survivor and stuck there
	Unstuck       []string
	StillOnFailed []string // orphans still served by the stopped backend
	Others        int      // clients of the other backends
	OthersMoved   []string
	Errors        int // failed connections while the backend was down
	MovedBack     int // orphans served by the returned backend afterwards
	StayedAfter   int // orphans that stayed on their survivor afterwards
	OthersAfter   int // other clients that moved after the return
}

// Failover classifies clients by what the stop and the return did to them.
func Failover(in FailoverInput) FailoverResult {
	var r FailoverResult
	for _, t := range in.During {
		before := in.Before[t.Client]
		d := t.distinct()
		r.Errors += t.Errors
		if before == in.Failed {
			r.Orphans++
			switch {
			case slices.Contains(d, in.Failed):
				r.StillOnFailed = append(r.StillOnFailed, fmt.Sprintf("%s: still served by stopped %s", t.Client, in.Failed))
			case len(d) == 1 && t.Errors == 0:
				r.Repinned++
			case len(d) == 0:
				r.Unstuck = append(r.Unstuck, fmt.Sprintf("%s: no connection succeeded (%d failed)", t.Client, t.Errors))
			default:
				r.Unstuck = append(r.Unstuck, fmt.Sprintf("%s: %s → %s (%d failed)", t.Client, in.Failed, strings.Join(t.Backends, " → "), t.Errors))
			}
			continue
		}
		if before == "" {
			continue // not sticky before; stickiness already reports it
		}
		r.Others++
		if len(d) != 1 || d[0] != before || t.Errors > 0 {
			r.OthersMoved = append(r.OthersMoved, fmt.Sprintf("%s: %s → %s (%d failed)", t.Client, before, strings.Join(t.Backends, " → "), t.Errors))
		}
	}
	during := map[string]string{}
	for _, t := range in.During {
		if d := t.distinct(); len(d) == 1 {
			during[t.Client] = d[0]
		}
	}
	for _, t := range in.After {
		before := in.Before[t.Client]
		if before == in.Failed {
			if slices.Contains(t.Backends, in.Failed) {
				r.MovedBack++
			} else if d := t.distinct(); len(d) == 1 && d[0] == during[t.Client] {
				r.StayedAfter++
			}
			continue
		}
		if before != "" && (len(t.distinct()) != 1 || t.first() != before) {
			r.OthersAfter++
		}
	}
	return r
}

// EvalFailover passes when every client of the stopped backend moved to one
// survivor and stuck there, no connection failed, and (when Strict) no other
// client moved.
func EvalFailover(in FailoverInput) *report.Scenario {
	if in.Unpinned {
		return evalFailoverUnpinned(in)
	}
	sc := &report.Scenario{Name: ScenarioFailover}
	r := Failover(in)
	othersFrac := 0.0
	if r.Others > 0 {
		othersFrac = float64(len(r.OthersMoved)) / float64(r.Others)
	}
	// A failed connection fails the scenario whoever's it was: the proxy
	// had already routed around the stopped backend.
	sc.Passed = r.Orphans > 0 && r.Repinned == r.Orphans && r.Errors == 0 && (!in.Strict || len(r.OthersMoved) == 0)
	sc.Summary = fmt.Sprintf("stopped %s: %d/%d of its clients re-pinned to a survivor; %d/%d other clients moved (%.1f%%)",
		in.Failed, r.Repinned, r.Orphans, len(r.OthersMoved), r.Others, 100*othersFrac)
	if r.Errors > 0 {
		sc.Summary += fmt.Sprintf("; %d connections failed", r.Errors)
	}
	if len(in.After) > 0 {
		sc.Summary += fmt.Sprintf("; after its return %d moved back, %d stayed", r.MovedBack, r.StayedAfter)
	}
	if r.Orphans == 0 {
		sc.Details = append(sc.Details, fmt.Sprintf("%s had no clients to fail over", in.Failed))
	}
	if !in.Strict && len(r.OthersMoved) > 0 {
		sc.Details = append(sc.Details, "map-based hashing remaps clients of healthy servers when one goes down; a consistent hash (HAProxy hash-type consistent, NGINX hash ... consistent) moves only the failed server's clients")
	}
	sc.Details = append(sc.Details, limitDetails(append(append(r.StillOnFailed, r.Unstuck...), r.OthersMoved...))...)
	sc.Metrics = []report.Metric{
		{Name: "clients of the stopped backend", Value: float64(r.Orphans), Unit: "clients"},
		{Name: "re-pinned to a survivor", Value: float64(r.Repinned), Unit: "clients"},
		{Name: "other clients", Value: float64(r.Others), Unit: "clients"},
		{Name: "other clients moved", Value: float64(len(r.OthersMoved)), Unit: "clients"},
		{Name: "other clients moved (share)", Value: 100 * othersFrac, Unit: "%"},
		{Name: "failed connections while down", Value: float64(r.Errors), Unit: "connections"},
		{Name: "time to route around", Value: float64(in.Settle) / float64(time.Millisecond), Unit: "ms"},
		{Name: "failed probes before that", Value: float64(in.Transient), Unit: "connections"},
	}
	if len(in.After) > 0 {
		sc.Metrics = append(sc.Metrics,
			report.Metric{Name: "moved back after return", Value: float64(r.MovedBack), Unit: "clients"},
			report.Metric{Name: "stayed on survivor after return", Value: float64(r.StayedAfter), Unit: "clients"},
			report.Metric{Name: "other clients moved after return", Value: float64(r.OthersAfter), Unit: "clients"},
		)
	}
	timerNotes(sc, in)
	return sc
}

// evalFailoverUnpinned judges failover without affinity: while the backend
// is down every connection must succeed on a survivor.
func evalFailoverUnpinned(in FailoverInput) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioFailover}
	ok, failed, onFailed := 0, 0, 0
	var details []string
	for _, t := range in.During {
		failed += t.Errors
		for _, b := range t.Backends {
			if b == in.Failed {
				onFailed++
			} else {
				ok++
			}
		}
		if t.Errors > 0 || slices.Contains(t.Backends, in.Failed) {
			details = append(details, fmt.Sprintf("%s: %s (%d failed)", t.Client, strings.Join(t.Backends, " → "), t.Errors))
		}
	}
	sc.Passed = ok > 0 && failed == 0 && onFailed == 0
	sc.Summary = fmt.Sprintf("stopped %s: %d/%d connections served by survivors, %d failed (no affinity: clients are not expected to stick)",
		in.Failed, ok, ok+failed+onFailed, failed)
	sc.Details = limitDetails(details)
	sc.Metrics = []report.Metric{
		{Name: "connections served by survivors", Value: float64(ok), Unit: "connections"},
		{Name: "failed connections while down", Value: float64(failed), Unit: "connections"},
		{Name: "served by the stopped backend", Value: float64(onFailed), Unit: "connections"},
		{Name: "time to route around", Value: float64(in.Settle) / float64(time.Millisecond), Unit: "ms"},
		{Name: "failed probes before that", Value: float64(in.Transient), Unit: "connections"},
	}
	timerNotes(sc, in)
	return sc
}

// ReloadInput is what the reload scenario observed.
type ReloadInput struct {
	Held    int      // connections open across the reload
	Dropped []string // held connections that did not survive (one line each)
	// New are connections made after the reload.
	New []Trace
	// Before maps the clients the proxy had pinned to the backend serving
	// them right before the reload, to report whether the reload moved
	// anybody. Clients not in it are not judged (nil without affinity).
	Before map[string]string
}

// EvalReload passes when no held connection was dropped and every new
// connection after the reload succeeded. Clients the reload moved are
// reported, not failed: whether affinity survives a reload depends on
// where the proxy keeps it.
func EvalReload(in ReloadInput) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioReload}
	newOK, newFailed := 0, 0
	var failures, moves []string
	for _, t := range in.New {
		newOK += len(t.Backends)
		newFailed += t.Errors
		if t.Errors > 0 {
			failures = append(failures, fmt.Sprintf("%s: %d new connections failed after the reload", t.Client, t.Errors))
		}
		if b := in.Before[t.Client]; b != "" && len(t.Backends) > 0 && t.first() != b {
			moves = append(moves, fmt.Sprintf("%s: %s before the reload, %s after", t.Client, b, t.first()))
		}
	}
	moved := len(moves)
	sc.Passed = in.Held > 0 && len(in.Dropped) == 0 && newFailed == 0 && newOK > 0
	sc.Summary = fmt.Sprintf("%d/%d open connections survived the reload; %d/%d new connections succeeded",
		in.Held-len(in.Dropped), in.Held, newOK, newOK+newFailed)
	if moved > 0 {
		sc.Summary += fmt.Sprintf("; %d clients moved to another backend", moved)
	}
	sc.Details = limitDetails(append(append([]string{}, in.Dropped...), failures...))
	if moved > 0 {
		sc.Details = append(sc.Details, fmt.Sprintf("%d clients reached a different backend after the reload than right before it, with the same key: "+
			"the proxy did not keep their affinity across the reload. Affinity derived from the key itself (a hash of it, or a cookie naming the server) survives a reload; "+
			"affinity remembered in the proxy's memory starts empty in the new process (an HAProxy stick table survives only with a peers section)", moved))
		sc.Details = append(sc.Details, limitDetails(moves)...)
	}
	sc.Metrics = []report.Metric{
		{Name: "held connections", Value: float64(in.Held), Unit: "connections"},
		{Name: "dropped", Value: float64(len(in.Dropped)), Unit: "connections"},
		{Name: "new connections", Value: float64(newOK), Unit: "connections"},
		{Name: "new connections failed", Value: float64(newFailed), Unit: "connections"},
		{Name: "clients moved by the reload", Value: float64(moved), Unit: "clients"},
	}
	return sc
}

// EvalIdle passes when no connection held idle for d was closed.
func EvalIdle(held int, closed []string, d time.Duration) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioIdle}
	sc.Passed = held > 0 && len(closed) == 0
	sc.Summary = fmt.Sprintf("%d/%d connections survived %s idle", held-len(closed), held, d)
	if len(closed) > 0 {
		sc.Details = append([]string{"the proxy closes idle WebSockets sooner: raise the tunnel timeout (HAProxy timeout tunnel, NGINX proxy_read_timeout)"}, limitDetails(closed)...)
	}
	sc.Metrics = []report.Metric{
		{Name: "held connections", Value: float64(held), Unit: "connections"},
		{Name: "closed while idle", Value: float64(len(closed)), Unit: "connections"},
		{Name: "idle time", Value: d.Seconds(), Unit: "s"},
	}
	return sc
}

// Skipped is a scenario that could not run, with the reason.
func Skipped(name, reason string) *report.Scenario {
	return &report.Scenario{Name: name, Passed: true, Skipped: true, Summary: "skipped: " + reason}
}

func limitDetails(lines []string) []string {
	if len(lines) <= maxDetails {
		return lines
	}
	out := append([]string{}, lines[:maxDetails]...)
	return append(out, fmt.Sprintf("… and %d more", len(lines)-maxDetails))
}
