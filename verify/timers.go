package verify

import (
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

// FastCheckInterval is the health check interval of the local copy a
// verification runs (unless Options.ProductionTimers), shared with the
// rewrite of existing configs: the failover then takes a fraction of a
// second, and the report states what the production timers would take.
const FastCheckInterval = driver.FastCheckInterval

// fastCheckTimeout is the least time a check may take in the local copy.
const fastCheckTimeout = driver.FastCheckTimeout

// Timers are a pool's failure detection settings as the user wrote them,
// for the proxy of Kind: read by rewrite from an existing config, or from a
// topology pool as the generator renders it (poolTimers). What they mean
// for a dead server is the proxy's failure model (rewrite.Failure).
type Timers struct {
	Kind proxybin.Kind
	rewrite.Timers
}

// poolTimers reads the timers of a topology pool as the generator renders
// them for kind.
func poolTimers(p *topology.Pool, kind proxybin.Kind) Timers {
	t := Timers{Kind: kind}
	if m := rewrite.Failure(kind); m != nil {
		t.Timers = m.FromHealth(p.Health)
	}
	return t
}

// withFastChecks returns a copy of t whose health-checked pools check every
// FastCheckInterval (rise and fall stay as written), each check allowed at
// least fastCheckTimeout. The pools are copied;
// t is not modified.
func withFastChecks(t *topology.Topology) *topology.Topology {
	c := *t
	c.Pools = nil
	for _, p := range t.Pools {
		pc := *p
		if pc.Health.Enabled && pc.Health.Interval > FastCheckInterval {
			pc.Health.Interval = FastCheckInterval
			pc.Health.Timeout = max(pc.Health.Timeout, fastCheckTimeout)
		}
		c.Pools = append(c.Pools, &pc)
	}
	return &c
}

// model is the proxy's failure model, nil when the timers are unknown or
// the proxy has none.
func (t Timers) model() rewrite.FailureModel {
	if !t.Known {
		return nil
	}
	return rewrite.Failure(t.Kind)
}

// RouteAround is how long the proxy takes, with these timers, to stop
// sending clients to a server that died; ok is false when it never does
// by itself.
func (t Timers) RouteAround() (d time.Duration, ok bool) {
	if m := t.model(); m != nil {
		return m.RouteAround(t.Timers)
	}
	return 0, false
}

// TakeBack is how long the proxy takes to send clients to a server that
// came back.
func (t Timers) TakeBack() time.Duration {
	if m := t.model(); m != nil {
		return m.TakeBack(t.Timers)
	}
	return 0
}

// Describe says, in one sentence, what the timers mean for a dead server.
func (t Timers) Describe() string {
	if m := t.model(); m != nil {
		return m.Describe(t.Timers)
	}
	return "production failure detection could not be read from the config"
}

// Short is Describe in a few words, for a summary line.
func (t Timers) Short() string {
	if m := t.model(); m != nil {
		return m.Short(t.Timers)
	}
	return "production timers unknown"
}

// fmtDur prints a duration briefly: 6s, 1.5s, 300ms.
func fmtDur(d time.Duration) string { return rewrite.FormatDuration(d) }
