package haproxy

import (
	"fmt"
	"time"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

// failure is HAProxy's failure model: it health-checks actively, marks a
// server down after fall failed checks (the first within inter, the
// others fastinter apart) and up again after rise good ones.
type failure struct{}

func init() { rewrite.RegisterFailureModel(proxybin.HAProxy, failure{}) }

func (failure) FromHealth(h topology.HealthCheck) rewrite.Timers {
	return rewrite.Timers{Known: true, Checks: h.Enabled, Interval: h.Interval, Rise: h.Rise, Fall: h.Fall}
}

func (failure) RouteAround(t rewrite.Timers) (time.Duration, bool) {
	if !t.Checks {
		return 0, false
	}
	return t.Interval + fastInter(t)*time.Duration(max(t.Fall, 1)-1), true
}

func (failure) TakeBack(t rewrite.Timers) time.Duration {
	down := t.Interval
	if t.DownInter > 0 {
		down = t.DownInter
	}
	return down + fastInter(t)*time.Duration(max(t.Rise, 1)-1)
}

func (f failure) Describe(t rewrite.Timers) string {
	if !t.Checks {
		return "with your production settings HAProxy does not health-check the servers: only retries and redispatch keep clients off a dead server"
	}
	d, _ := f.RouteAround(t)
	dur := rewrite.FormatDuration
	if fastInter(t) != t.Interval || (t.DownInter > 0 && t.DownInter != t.Interval) {
		return fmt.Sprintf("with your production settings HAProxy routes around a dead server in ~%s (inter %s, then fastinter %s, fall %d) and takes it back after ~%s (rise %d)",
			dur(d), dur(t.Interval), dur(fastInter(t)), t.Fall, dur(f.TakeBack(t)), t.Rise)
	}
	return fmt.Sprintf("with your production settings HAProxy routes around a dead server in ~%s (inter %s × fall %d) and takes it back after ~%s (× rise %d)",
		dur(d), dur(t.Interval), t.Fall, dur(f.TakeBack(t)), t.Rise)
}

func (f failure) Short(t rewrite.Timers) string {
	if !t.Checks {
		return "no health checks in production"
	}
	d, _ := f.RouteAround(t)
	return "production timers: ~" + rewrite.FormatDuration(d)
}

// fastInter is the interval of checks after the first failed or good one.
func fastInter(t rewrite.Timers) time.Duration {
	if t.FastInter > 0 {
		return t.FastInter
	}
	return t.Interval
}
