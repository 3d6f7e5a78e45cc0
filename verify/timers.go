package verify

import (
	"fmt"
	"strconv"
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
// topology pool as the generator renders it (poolTimers). HAProxy checks
// actively: a server is marked down after Fall failed checks (the first
// within Interval, the others FastInter apart), and up again after Rise
// good ones. NGINX only counts failed connections: after MaxFails of them
// within FailTimeout the server is skipped for FailTimeout, then tried
// again.
type Timers struct {
	Kind proxybin.Kind
	rewrite.Timers
}

// poolTimers reads the timers of a topology pool as the generator renders
// them for kind (NGINX: max_fails = fall, fail_timeout = interval × fall,
// in whole seconds).
func poolTimers(p *topology.Pool, kind proxybin.Kind) Timers {
	h := p.Health
	t := Timers{Kind: kind, Timers: rewrite.Timers{Known: true, Checks: h.Enabled, Interval: h.Interval, Rise: h.Rise, Fall: h.Fall}}
	if kind == proxybin.Nginx && h.Enabled {
		t.MaxFails = max(h.Fall, 1)
		t.FailTimeout = driver.NginxFailTimeout(h.Interval, t.MaxFails)
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

// RouteAround is how long the proxy takes, with these timers, to stop
// sending clients to a server that died; ok is false when it never does
// by itself.
func (t Timers) RouteAround() (d time.Duration, ok bool) {
	switch {
	case !t.Known || !t.Checks:
		return 0, false
	case t.Kind == proxybin.Nginx:
		// Each connection the dead server refuses is retried on another
		// at once; after max_fails of them the server is skipped.
		return 0, true
	default:
		// The first failed check comes within inter, the others fastinter
		// apart.
		return t.Interval + t.fast()*time.Duration(max(t.Fall, 1)-1), true
	}
}

func (t Timers) fast() time.Duration {
	if t.FastInter > 0 {
		return t.FastInter
	}
	return t.Interval
}

// TakeBack is how long the proxy takes to send clients to a server that
// came back.
func (t Timers) TakeBack() time.Duration {
	if t.Kind == proxybin.Nginx {
		return t.FailTimeout
	}
	down := t.Interval
	if t.DownInter > 0 {
		down = t.DownInter
	}
	return down + t.fast()*time.Duration(max(t.Rise, 1)-1)
}

// Describe says, in one sentence, what the timers mean for a dead server.
func (t Timers) Describe() string {
	switch {
	case !t.Known:
		return "production failure detection could not be read from the config"
	case t.Kind == proxybin.Nginx && !t.Checks:
		return "with your production settings (max_fails=0) NGINX never marks a dead server down; each connection to it is retried on another"
	case t.Kind == proxybin.Nginx:
		return fmt.Sprintf("with your production settings NGINX retries each connection a dead server refuses on another at once, skips the server after %d failures (max_fails) and tries it again every %s (fail_timeout)",
			t.MaxFails, fmtDur(t.FailTimeout))
	case !t.Checks:
		return "with your production settings HAProxy does not health-check the servers: only retries and redispatch keep clients off a dead server"
	default:
		d, _ := t.RouteAround()
		if t.fast() != t.Interval || (t.DownInter > 0 && t.DownInter != t.Interval) {
			return fmt.Sprintf("with your production settings HAProxy routes around a dead server in ~%s (inter %s, then fastinter %s, fall %d) and takes it back after ~%s (rise %d)",
				fmtDur(d), fmtDur(t.Interval), fmtDur(t.fast()), t.Fall, fmtDur(t.TakeBack()), t.Rise)
		}
		return fmt.Sprintf("with your production settings HAProxy routes around a dead server in ~%s (inter %s × fall %d) and takes it back after ~%s (× rise %d)",
			fmtDur(d), fmtDur(t.Interval), t.Fall, fmtDur(t.TakeBack()), t.Rise)
	}
}

// Short is Describe in a few words, for a summary line.
func (t Timers) Short() string {
	switch {
	case !t.Known:
		return "production timers unknown"
	case !t.Checks:
		return "no health checks in production"
	case t.Kind == proxybin.Nginx:
		return fmt.Sprintf("production: retried at once, back after fail_timeout %s", fmtDur(t.FailTimeout))
	default:
		d, _ := t.RouteAround()
		return fmt.Sprintf("production timers: ~%s", fmtDur(d))
	}
}

// fmtDur prints a duration briefly: 6s, 1.5s, 300ms.
func fmtDur(d time.Duration) string {
	if d >= time.Second {
		// From whole milliseconds: Seconds() adds the fraction in floating
		// point and can print 1.6600000000000001.
		ms := d.Round(10 * time.Millisecond).Milliseconds()
		return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + "s"
	}
	return d.Round(time.Millisecond).String()
}
