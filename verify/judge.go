package verify

import (
	"fmt"
	"slices"
	"time"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/report"
)

// Observations are what one run of a pool saw, before any verdict: the
// baseline's traces and each later scenario's raw input. Judge turns them
// into scenarios. A sharded run writes them to its results file, and
// `wslb report merge` judges the shards' observations, concatenated, with
// the same Judge: a verdict has one definition whether the clients ran
// on one machine or on several.
type Observations struct {
	// Scenarios are the scenarios asked for.
	Scenarios []string `json:"scenarios"`
	// Client is the client protocol (harness.ClientWebSocket or
	// harness.ClientSocketIO).
	Client        string        `json:"client"`
	MinStickiness float64       `json:"min_stickiness"`
	Servers       []BackendInfo `json:"servers"`
	// Baseline is every client's connections of the baseline phase, in
	// client order; stickiness and spread judge it.
	Baseline  []Trace         `json:"baseline"`
	Broadcast *BroadcastInput `json:"broadcast,omitempty"`
	Failover  *FailoverObs    `json:"failover,omitempty"`
	Reload    *ReloadInput    `json:"reload,omitempty"`
	Idle      *IdleInput      `json:"idle,omitempty"`
	Faults    []FaultInput    `json:"faults,omitempty"`
	// Fanout holds each fan-out scenario's observations, by name.
	Fanout map[string]*FanoutInput `json:"fanout,omitempty"`
	// Skips are scenarios that did not run, with why.
	Skips map[string]string `json:"skips,omitempty"`
	// Notes are per scenario what the run saw around it.
	Notes map[string]Note `json:"notes,omitempty"`
}

// Note is what a run saw around one scenario: how long it took and
// whether the proxy had died or stopped answering by its end.
type Note struct {
	Elapsed      time.Duration `json:"elapsed_ns"`
	ProxyFailure string        `json:"proxy_failure,omitempty"`
	ProxyLog     []string      `json:"proxy_log,omitempty"`
}

// FailoverObs is what the failover scenario observed: its input once the
// stopped backend was back, or NoVictim when no client stuck to a backend.
type FailoverObs struct {
	Input    FailoverInput `json:"input"`
	NoVictim bool          `json:"no_victim,omitempty"`
	// Settled: the proxy routed the stopped backend's clients to one
	// survivor each within settleMax; Returned: fresh clients reached the
	// backend within settleMax of its return.
	Settled  bool `json:"settled"`
	Returned bool `json:"returned"`
}

// IdleInput is what the idle scenario observed.
type IdleInput struct {
	Held   int           `json:"held"`
	Closed []string      `json:"closed"`
	Idle   time.Duration `json:"idle_ns"`
}

// newObservations starts the observations of a run of plan.
func newObservations(plan poolPlan, opts Options) *Observations {
	return &Observations{
		Scenarios: slices.Clone(opts.Scenarios), Client: opts.Client, MinStickiness: opts.MinStickiness,
		Servers: slices.Clone(plan.Servers), Skips: map[string]string{}, Notes: map[string]Note{},
	}
}

// judgeOrder is the order scenarios appear in a run's report.
var judgeOrder = []string{ScenarioStickiness, ScenarioSpread, ScenarioFanout, ScenarioFanoutNodeStop, ScenarioFanoutBrokerRestart, ScenarioBroadcast, ScenarioFailover, ScenarioReload, ScenarioIdle, ScenarioFault}

// Judge computes the verdict of every scenario asked for from what the run
// observed.
func Judge(o *Observations) []*report.Scenario {
	// The baseline tests affinity and spread, not reachability: a
	// connection that failed there failed for another reason, and the
	// scenarios cannot vouch for the clients it left out.
	failed := 0
	for _, t := range o.Baseline {
		failed += t.Errors
	}
	baseline := func(sc *report.Scenario) *report.Scenario {
		// A Socket.IO session that failed is what stickiness judges: it
		// names its cause there.
		sessions := o.Client == harness.ClientSocketIO && sc.Name == ScenarioStickiness
		if failed > 0 && !sc.Skipped && !sessions {
			sc.Passed = false
			sc.Summary += fmt.Sprintf("; %d connections failed, which this scenario does not test", failed)
		}
		return sc
	}
	var out []*report.Scenario
	for _, name := range judgeOrder {
		if !slices.Contains(o.Scenarios, name) {
			continue
		}
		var sc *report.Scenario
		if why, ok := o.Skips[name]; ok {
			out = append(out, withNote(Skipped(name, why), o.Notes[name]))
			continue
		}
		switch name {
		case ScenarioStickiness:
			sc = baseline(EvalStickiness(o.Baseline, o.MinStickiness))
		case ScenarioSpread:
			sc = baseline(EvalSpread(o.Baseline, o.Servers))
		case ScenarioBroadcast:
			if o.Broadcast != nil {
				sc = EvalBroadcast(*o.Broadcast)
			}
		case ScenarioFailover:
			if o.Failover != nil {
				sc = judgeFailover(*o.Failover)
			}
		case ScenarioReload:
			if o.Reload != nil {
				sc = EvalReload(*o.Reload)
			}
		case ScenarioFanout, ScenarioFanoutNodeStop, ScenarioFanoutBrokerRestart:
			if in := o.Fanout[name]; in != nil {
				sc = EvalFanout(*in)
			}
		case ScenarioFault:
			if len(o.Faults) > 0 {
				sc = judgeFaults(o.Faults)
			}
		case ScenarioIdle:
			if o.Idle != nil {
				sc = EvalIdle(o.Idle.Held, o.Idle.Closed, o.Idle.Idle)
			}
		}
		if sc == nil {
			sc = &report.Scenario{Name: name, Summary: "not observed: the run recorded nothing for this scenario"}
		}
		out = append(out, withNote(sc, o.Notes[name]))
	}
	return out
}

// judgeFailover judges a failover from its observations.
func judgeFailover(fo FailoverObs) *report.Scenario {
	if fo.NoVictim {
		return &report.Scenario{Name: ScenarioFailover, Summary: "no client stuck to a backend, so there is nothing to fail over"}
	}
	sc := EvalFailover(fo.Input)
	if !fo.Returned {
		sc.Details = append(sc.Details, fmt.Sprintf("no new client reached %s within %s of its return", fo.Input.Failed, settleMax))
	}
	if !fo.Settled {
		sc.Passed = false
		sc.Details = append([]string{fmt.Sprintf("the proxy did not route %s's clients to one survivor each within %s", fo.Input.Failed, settleMax)}, sc.Details...)
	}
	return sc
}

// withNote adds what the run saw around a scenario: every scenario checks
// that the proxy lived and answered throughout; if not, it fails, saying
// when and how.
func withNote(sc *report.Scenario, n Note) *report.Scenario {
	sc.Elapsed = n.Elapsed
	if n.ProxyFailure != "" && !sc.Skipped {
		sc.Passed = false
		sc.Summary = n.ProxyFailure + "; " + sc.Summary
		details := make([]string, 0, len(n.ProxyLog)+len(sc.Details))
		for _, l := range n.ProxyLog {
			details = append(details, "proxy log: "+l)
		}
		sc.Details = append(details, sc.Details...)
	}
	return sc
}

// passed is the verdict of a run's scenarios: none failed.
func passed(scs []*report.Scenario) bool {
	for _, sc := range scs {
		if !sc.Skipped && !sc.Passed {
			return false
		}
	}
	return true
}
