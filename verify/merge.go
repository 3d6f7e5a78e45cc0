package verify

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/wslb/wslb/report"
)

// Merge judges the results of the N shards of one run as that run: each
// run's observations are concatenated in shard order (the clients of
// shard i come before those of shard i+1, as in an unsharded run) and
// judged by Judge, so the verdicts are those of the clients all together.
// Results that are not the N shards of one run — another input file,
// other settings, another N, a shard missing or given twice — are
// refused with an *InputError saying which.
func Merge(shards []*Results) (*report.Summary, error) {
	if len(shards) == 0 {
		return nil, inputErrorf("no results to merge")
	}
	shards = slices.Clone(shards)
	slices.SortStableFunc(shards, func(a, b *Results) int { return cmp.Compare(a.Shard.Index, b.Shard.Index) })
	if err := sameRun(shards); err != nil {
		return nil, &InputError{Err: err}
	}
	first := shards[0]
	var runs []*report.Run
	for i := range first.Runs {
		parts := make([]*Part, len(shards))
		for s, r := range shards {
			parts[s] = r.Runs[i]
		}
		run, err := mergeRun(parts, first.Params)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("%s, pool %s: %w", first.Runs[i].Proxy, first.Runs[i].Pool, err)}
		}
		runs = append(runs, run)
	}
	return summarize(first.Source, runs), nil
}

// sameRun checks that shards (sorted by index) are the N shards of one run.
func sameRun(shards []*Results) error {
	first := shards[0]
	n := first.Shard.Count
	for _, r := range shards[1:] {
		switch {
		case r.Version != first.Version:
			return fmt.Errorf("shard %s has results format version %d, shard %s version %d", r.Shard, r.Version, first.Shard, first.Version)
		case r.SourceSHA256 != first.SourceSHA256:
			return fmt.Errorf("shard %s ran another topology or config than shard %s (%s has SHA-256 %s, %s has %s)",
				r.Shard, first.Shard, r.Source, short(r.SourceSHA256), first.Source, short(first.SourceSHA256))
		case r.Shard.Count != n:
			return fmt.Errorf("shard %s and shard %s split the clients differently (%d and %d shards)", r.Shard, first.Shard, r.Shard.Count, n)
		case !reflect.DeepEqual(r.Params, first.Params):
			return fmt.Errorf("shard %s ran with other settings than shard %s: %s", r.Shard, first.Shard, paramsDiff(first.Params, r.Params))
		case len(r.Runs) != len(first.Runs):
			return fmt.Errorf("shard %s has %d runs, shard %s %d", r.Shard, len(r.Runs), first.Shard, len(first.Runs))
		}
		for i, p := range r.Runs {
			if q := first.Runs[i]; p.Proxy != q.Proxy || p.Pool != q.Pool || p.Affinity != q.Affinity {
				return fmt.Errorf("run %d is %s pool %s in shard %s but %s pool %s in shard %s", i+1, p.Proxy, p.Pool, r.Shard, q.Proxy, q.Pool, first.Shard)
			}
		}
	}
	var dup, missing []string
	have := map[int]bool{}
	for _, r := range shards {
		if have[r.Shard.Index] {
			dup = append(dup, r.Shard.String())
		}
		have[r.Shard.Index] = true
	}
	for i := range n {
		if !have[i] {
			missing = append(missing, Shard{Index: i, Count: n}.String())
		}
	}
	var errs []error
	if len(dup) > 0 {
		errs = append(errs, fmt.Errorf("shard %s given more than once", strings.Join(slices.Compact(dup), ", ")))
	}
	if len(missing) > 0 {
		errs = append(errs, fmt.Errorf("shard %s missing: merge the results of all %d shards", strings.Join(missing, ", "), n))
	}
	return errors.Join(errs...)
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// paramsDiff names the settings that differ.
func paramsDiff(a, b Params) string {
	var out []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
			out = append(out, fmt.Sprintf("%s %v and %v", name, vb.Field(i).Interface(), va.Field(i).Interface()))
		}
	}
	return strings.Join(out, "; ")
}

// mergeRun is one run of all shards together.
func mergeRun(parts []*Part, params Params) (*report.Run, error) {
	obs := make([]*Observations, len(parts))
	for i, p := range parts {
		obs[i] = p.Observations
	}
	o, err := mergeObservations(obs)
	if err != nil {
		return nil, err
	}
	first := parts[0]
	run := &report.Run{
		Proxy: first.Proxy, Pool: first.Pool, Affinity: first.Affinity,
		Clients: params.Clients, Reconnects: params.Reconnects, Messages: params.Messages,
		Started: first.Started,
	}
	var versions []string
	backends := map[string]*report.Backend{}
	for _, p := range parts {
		if !slices.Contains(versions, p.ProxyVersion) {
			versions = append(versions, p.ProxyVersion)
		}
		if !p.Started.IsZero() && (run.Started.IsZero() || p.Started.Before(run.Started)) {
			run.Started = p.Started
		}
		// The shards run side by side: the run lasts as long as the longest.
		run.Duration = max(run.Duration, p.Duration)
		for _, b := range p.Backends {
			m := backends[b.ID]
			if m == nil {
				m = &report.Backend{ID: b.ID, Weight: b.Weight, Backup: b.Backup}
				backends[b.ID] = m
				run.Backends = append(run.Backends, m)
			}
			m.Clients += b.Clients
			m.Connections += b.Connections
		}
		// Each shard probed its own path; the report shows the first
		// shard's probe that measured one.
		if run.RTT.Samples == 0 {
			run.RTT, run.DirectRTT = p.RTT, p.DirectRTT
		}
		// Each shard ran its own nodes: the run used every image any did.
		for _, im := range p.Images {
			if !slices.Contains(run.Images, im) {
				run.Images = append(run.Images, im)
			}
		}
		run.Load = mergeLoad(run.Load, p.Load)
		run.Errors = mergeErrors(run.Errors, p.Errors)
	}
	run.ProxyVersion = strings.Join(versions, ", ")
	run.Stickiness = Stickiness(o.Baseline)
	run.Scenarios = Judge(o)
	run.Passed = passed(run.Scenarios)
	return run, nil
}

// mergeLoad adds a shard's load phases: messages and clients in flight
// add up, the shards ran side by side, and the queueing delay is the
// worst shard's at each percentile.
func mergeLoad(a, b report.Load) report.Load {
	return report.Load{
		Messages: a.Messages + b.Messages,
		Elapsed:  max(a.Elapsed, b.Elapsed),
		InFlight: a.InFlight + b.InFlight,
		Queueing: mergeLatency(a.Queueing, b.Queueing),
	}
}

// mergeLatency combines two latency summaries: the histograms' buckets add
// up, and each percentile is the larger of the two (an upper bound of the
// combined one).
func mergeLatency(a, b report.Latency) report.Latency {
	if a.Samples == 0 {
		return b
	}
	if b.Samples == 0 {
		return a
	}
	m := report.Latency{
		P50: max(a.P50, b.P50), P90: max(a.P90, b.P90), P99: max(a.P99, b.P99), Max: max(a.Max, b.Max),
		Samples: a.Samples + b.Samples,
	}
	counts := map[time.Duration]int64{}
	for _, bk := range append(slices.Clone(a.Histogram), b.Histogram...) {
		counts[bk.UpperBound] += bk.Count
	}
	for _, ub := range slices.Sorted(maps.Keys(counts)) {
		m.Histogram = append(m.Histogram, report.Bucket{UpperBound: ub, Count: counts[ub]})
	}
	return m
}

func mergeErrors(a, b report.Errors) report.Errors {
	m := report.Errors{
		Handshake: a.Handshake + b.Handshake, Message: a.Message + b.Message, Dropped: a.Dropped + b.Dropped,
		Sent: a.Sent + b.Sent, Echoed: a.Echoed + b.Echoed, Samples: slices.Clone(a.Samples),
	}
	for _, s := range b.Samples {
		if len(m.Samples) < maxErrorSamples {
			m.Samples = append(m.Samples, s)
		}
	}
	return m
}

// mergeObservations concatenates what the shards of one run observed, in
// shard order. Everything that is not per client must agree.
func mergeObservations(shards []*Observations) (*Observations, error) {
	first := shards[0]
	if len(shards) == 1 {
		return first, nil
	}
	m := &Observations{
		Scenarios: first.Scenarios, Client: first.Client, MinStickiness: first.MinStickiness, Servers: first.Servers,
		Skips: map[string]string{}, Notes: map[string]Note{},
	}
	seen := map[string]int{}
	for i, o := range shards {
		if !slices.Equal(o.Servers, first.Servers) {
			return nil, fmt.Errorf("shard %d has other servers than shard 0", i)
		}
		for _, t := range o.Baseline {
			if j, dup := seen[t.Client]; dup {
				return nil, fmt.Errorf("client %s ran in shard %d and in shard %d", t.Client, j, i)
			}
			seen[t.Client] = i
		}
		m.Baseline = append(m.Baseline, o.Baseline...)
		if !maps.Equal(o.Skips, first.Skips) {
			return nil, fmt.Errorf("shards 0 and %d skipped different scenarios (%v and %v)", i, first.Skips, o.Skips)
		}
		for name, n := range o.Notes {
			mn := m.Notes[name]
			mn.Elapsed = max(mn.Elapsed, n.Elapsed)
			if n.ProxyFailure != "" && mn.ProxyFailure == "" {
				mn.ProxyFailure, mn.ProxyLog = fmt.Sprintf("shard %d: %s", i, n.ProxyFailure), n.ProxyLog
			}
			m.Notes[name] = mn
		}
		if o.Broadcast != nil {
			return nil, errors.New("a broadcast (Socket.IO) cannot be merged from shards: it must reach every client at once")
		}
		if len(o.Fanout) > 0 {
			return nil, errors.New("a fan-out cannot be merged from shards: every client of a room must run in one verify")
		}
	}
	maps.Copy(m.Skips, first.Skips)
	var err error
	if m.Failover, err = mergeFailover(shards); err != nil {
		return nil, err
	}
	if m.Reload, err = mergeReload(shards); err != nil {
		return nil, err
	}
	if m.Idle, err = mergeIdle(shards); err != nil {
		return nil, err
	}
	return m, nil
}

// present says whether every shard (true) or none (false) has an
// observation; a mix is an error.
func present[T any](shards []*Observations, name string, get func(*Observations) *T) (bool, error) {
	n := 0
	for _, o := range shards {
		if get(o) != nil {
			n++
		}
	}
	if n != 0 && n != len(shards) {
		return false, fmt.Errorf("%d of %d shards observed the %s scenario: merge shards of one run", n, len(shards), name)
	}
	return n > 0, nil
}

func mergeFailover(shards []*Observations) (*FailoverObs, error) {
	get := func(o *Observations) *FailoverObs { return o.Failover }
	if ok, err := present(shards, ScenarioFailover, get); !ok {
		return nil, err
	}
	first := *shards[0].Failover
	m := first
	m.Input.Before, m.Input.During, m.Input.After = map[string]string{}, nil, nil
	m.Input.Settle, m.Input.Transient, m.Input.ProxyDown, m.Input.ProxyUp = 0, 0, 0, 0
	for i, o := range shards {
		f := o.Failover
		if f.NoVictim != first.NoVictim || f.Input.Failed != first.Input.Failed {
			return nil, fmt.Errorf("shard %d stopped %q, shard 0 %q: every shard must stop the same server", i, f.Input.Failed, first.Input.Failed)
		}
		maps.Copy(m.Input.Before, f.Input.Before)
		m.Input.During = append(m.Input.During, f.Input.During...)
		m.Input.After = append(m.Input.After, f.Input.After...)
		// Each shard's proxy noticed on its own: the slowest counts.
		m.Input.Settle = max(m.Input.Settle, f.Input.Settle)
		m.Input.ProxyDown = max(m.Input.ProxyDown, f.Input.ProxyDown)
		m.Input.ProxyUp = max(m.Input.ProxyUp, f.Input.ProxyUp)
		m.Input.Transient += f.Input.Transient
		m.Settled = m.Settled && f.Settled
		m.Returned = m.Returned && f.Returned
	}
	return &m, nil
}

func mergeReload(shards []*Observations) (*ReloadInput, error) {
	get := func(o *Observations) *ReloadInput { return o.Reload }
	if ok, err := present(shards, ScenarioReload, get); !ok {
		return nil, err
	}
	m := &ReloadInput{}
	for _, o := range shards {
		r := o.Reload
		m.Held += r.Held
		m.Dropped = append(m.Dropped, r.Dropped...)
		m.New = append(m.New, r.New...)
		if r.Before != nil {
			if m.Before == nil {
				m.Before = map[string]string{}
			}
			maps.Copy(m.Before, r.Before)
		}
	}
	return m, nil
}

func mergeIdle(shards []*Observations) (*IdleInput, error) {
	get := func(o *Observations) *IdleInput { return o.Idle }
	if ok, err := present(shards, ScenarioIdle, get); !ok {
		return nil, err
	}
	m := &IdleInput{Idle: shards[0].Idle.Idle}
	for _, o := range shards {
		m.Held += o.Idle.Held
		m.Closed = append(m.Closed, o.Idle.Closed...)
	}
	return m, nil
}
