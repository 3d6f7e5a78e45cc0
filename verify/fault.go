package verify

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

// ScenarioFault injects each of Options.Faults in turn (the driver's
// fault vocabulary: loss, rate, down, pause, partition, delay on one
// backend) and reports what it did to the clients.
const ScenarioFault = "fault"

// FaultInput is what one fault did: where every client was before, when
// the faulted backend's clients were served again, and every client's
// connections once the proxy had settled, with the fault still on.
type FaultInput struct {
	Spec    string `json:"spec"`
	Backend string `json:"backend"`
	// Before maps each client to the backend it stuck to before the fault.
	Before map[string]string `json:"before"`
	// During are every client's connections (1 + reconnects each) once
	// the proxy had settled, the fault still on.
	During []Trace `json:"during"`
	// FirstReconnect is the time from the fault to the first successful
	// connection of a client of the faulted backend, AllServed to the
	// first probe round in which all of them were served (the proxy had
	// routed around the fault, or the fault let them through).
	FirstReconnect time.Duration `json:"first_reconnect_ns"`
	AllServed      time.Duration `json:"all_served_ns"`
	Settled        bool          `json:"settled"`
	// Transient counts the failed probe connections before that.
	Transient     int     `json:"transient"`
	Unpinned      bool    `json:"unpinned,omitempty"`
	MinStickiness float64 `json:"min_stickiness"`
}

// faults runs ScenarioFault: one fault after the other, each lifted
// before the next.
func (r *runner) faults() error {
	started := time.Now()
	ids := map[string]bool{}
	for _, s := range r.plan.Servers {
		ids[s.ID] = true
	}
	for _, f := range r.opts.Faults {
		if !ids[f.Backend] {
			r.skip(ScenarioFault, fmt.Sprintf("fault %s: the pool has no server %q (it has %s)", f, f.Backend, strings.Join(slices.Sorted(maps.Keys(ids)), ", ")), started)
			return nil
		}
	}
	for _, f := range r.opts.Faults {
		r.progress("fault " + f.String())
		in, err := r.fault(f)
		if err != nil {
			return fmt.Errorf("fault %s: %w", f, err)
		}
		r.obs.Faults = append(r.obs.Faults, in)
	}
	r.note(ScenarioFault, started)
	return nil
}

func (r *runner) fault(f driver.Fault) (FaultInput, error) {
	unpinned := r.plan.Key.Mode == topology.AffinityNone
	// Where every client is now: an earlier fault may have moved some.
	now, err := r.fleet.cycle(r.ctx, r.fleet.all(), 1, placeMessages)
	if err != nil {
		return FaultInput{}, err
	}
	r.count(now)
	before := stuckTo(now)
	if unpinned {
		before = maps.Clone(r.firstOf)
	}
	in := FaultInput{Spec: f.String(), Backend: f.Backend, Before: before, Unpinned: unpinned, MinStickiness: r.opts.MinStickiness}
	var affected []int
	for i := range r.fleet.clients {
		if before[r.fleet.clientName(i)] == f.Backend {
			affected = append(affected, i)
		}
	}
	undo, err := r.env.rt.Fault(r.ctx, f)
	if err != nil {
		return in, err
	}
	defer undo(r.ctx) //nolint:errcheck // lifted below; this is for early returns
	r.event("fault", f.String())
	at := time.Now()

	// Probe the faulted backend's clients until every one is served, two
	// rounds in a row (a round can miss a broken server by luck).
	clean := 0
	for time.Since(at) < settleMax && len(affected) > 0 {
		probe, err := r.fleet.probeClients(r.ctx, affected)
		if err != nil {
			return in, err
		}
		all := true
		for _, t := range probe {
			in.Transient += t.Errors
			if len(t.Backends) > 0 && t.Errors == 0 {
				if in.FirstReconnect == 0 {
					in.FirstReconnect = time.Since(at)
				}
			} else {
				all = false
			}
		}
		if all {
			if clean == 0 {
				in.AllServed = time.Since(at)
			}
			if clean++; clean == 2 {
				in.Settled = true
				break
			}
			continue
		}
		clean = 0
		if err := sleep(r.ctx, settlePoll); err != nil {
			return in, err
		}
	}
	if len(affected) == 0 {
		in.Settled = true
	}
	during, err := r.fleet.cycle(r.ctx, r.fleet.all(), r.opts.Reconnects+1, placeMessages)
	if err != nil {
		return in, err
	}
	r.count(during)
	in.During = during
	if err := undo(r.ctx); err != nil {
		return in, fmt.Errorf("lift: %w", err)
	}
	r.event("fault-lifted", f.String())
	// Before the next fault, wait until fresh clients reach the backend
	// again (the proxy takes it back after its checks), so that what the
	// next one moves is its own doing.
	for back := time.Now(); time.Since(back) < settleMax; {
		probe, err := r.fleet.probe(r.ctx, probeClients)
		if err != nil {
			return in, err
		}
		if served(probe, f.Backend) {
			break
		}
		if err := sleep(r.ctx, settlePoll); err != nil {
			return in, err
		}
	}
	return in, nil
}

// EvalFault judges one fault: it passes when the faulted backend's
// clients were served again within the settle bound, no other client
// moved (with affinity), and the other clients' stickiness held while the
// fault was on. Whether the faulted backend's own clients moved is
// reported, not judged: a fault the health checks do not notice (light
// loss, a slow link) rightly leaves them where they were, and a retried
// connection of theirs may land elsewhere.
func EvalFault(in FaultInput) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioFault, Passed: true}
	var own, ownMoved, others, othersMoved, errors int
	var othersDuring []Trace
	for _, t := range in.During {
		errors += t.Errors
		was, ok := in.Before[t.Client]
		if !ok {
			continue
		}
		now := t.first()
		moved := now != "" && now != was
		if was == in.Backend {
			own++
			if moved {
				ownMoved++
			}
			continue
		}
		others++
		othersDuring = append(othersDuring, t)
		if moved {
			othersMoved++
			if len(sc.Details) < maxDetails {
				sc.Details = append(sc.Details, fmt.Sprintf("%s moved from %s to %s though %s was faulted", t.Client, was, now, in.Backend))
			}
		}
	}
	stick := 1.0 // no other client: nothing to hold
	if len(othersDuring) > 0 {
		stick = Stickiness(othersDuring)
	}
	sc.Summary = fmt.Sprintf("%s: %d/%d of %s's clients moved, %d/%d others moved; ", in.Spec, ownMoved, own, in.Backend, othersMoved, others)
	if in.Settled {
		sc.Summary += fmt.Sprintf("first reconnect %s after the fault, all served after %s; ", in.FirstReconnect.Round(time.Millisecond), in.AllServed.Round(time.Millisecond))
	} else {
		sc.Passed = false
		sc.Summary += fmt.Sprintf("%s's clients were not all served again within %s; ", in.Backend, settleMax)
	}
	sc.Summary += fmt.Sprintf("stickiness of the others %.1f%% during the fault", 100*stick)
	if othersMoved > 0 && !in.Unpinned {
		sc.Passed = false
	}
	if stick < in.MinStickiness && !in.Unpinned {
		sc.Passed = false
		sc.Details = append(sc.Details, fmt.Sprintf("stickiness %.1f%% is below %.1f%% while %s was on", 100*stick, 100*in.MinStickiness, in.Spec))
	}
	sc.Metrics = []report.Metric{
		{Name: in.Spec + ": clients of " + in.Backend, Value: float64(own), Unit: "clients"},
		{Name: in.Spec + ": of them moved", Value: float64(ownMoved), Unit: "clients"},
		{Name: in.Spec + ": other clients moved", Value: float64(othersMoved), Unit: "clients"},
		{Name: in.Spec + ": first reconnect after the fault", Value: ms(in.FirstReconnect), Unit: "ms"},
		{Name: in.Spec + ": all served after", Value: ms(in.AllServed), Unit: "ms"},
		{Name: in.Spec + ": failed connections while settling", Value: float64(in.Transient), Unit: "connections"},
		{Name: in.Spec + ": failed connections after", Value: float64(errors), Unit: "connections"},
		{Name: in.Spec + ": stickiness during", Value: 100 * stick, Unit: "%"},
	}
	return sc
}

// judgeFaults merges the faults' verdicts into one scenario.
func judgeFaults(ins []FaultInput) *report.Scenario {
	sc := &report.Scenario{Name: ScenarioFault, Passed: true}
	var sums []string
	for _, in := range ins {
		one := EvalFault(in)
		sc.Passed = sc.Passed && one.Passed
		sums = append(sums, one.Summary)
		sc.Metrics = append(sc.Metrics, one.Metrics...)
		sc.Details = append(sc.Details, one.Details...)
	}
	sc.Summary = strings.Join(sums, " | ")
	return sc
}
