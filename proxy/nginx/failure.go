package nginx

import (
	"fmt"
	"time"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
)

// failure is NGINX's failure model: it only counts failed connections.
// After max_fails of them within fail_timeout the server is skipped for
// fail_timeout, then tried again.
type failure struct{}

func init() { rewrite.RegisterFailureModel(proxybin.Nginx, failure{}) }

// FromHealth gives what the generator writes: max_fails = fall and
// fail_timeout from the same FailTimeout.
func (failure) FromHealth(h topology.HealthCheck) rewrite.Timers {
	t := rewrite.Timers{Known: true, Checks: h.Enabled, Interval: h.Interval, Rise: h.Rise, Fall: h.Fall}
	if h.Enabled {
		t.MaxFails = max(h.Fall, 1)
		t.FailTimeout = FailTimeout(h.Interval, t.MaxFails)
	}
	return t
}

// RouteAround: each connection the dead server refuses is retried on
// another at once; after max_fails of them the server is skipped.
func (failure) RouteAround(t rewrite.Timers) (time.Duration, bool) { return 0, t.Checks }

func (failure) TakeBack(t rewrite.Timers) time.Duration { return t.FailTimeout }

func (failure) Describe(t rewrite.Timers) string {
	if !t.Checks {
		return "with your production settings (max_fails=0) NGINX never marks a dead server down; each connection to it is retried on another"
	}
	return fmt.Sprintf("with your production settings NGINX retries each connection a dead server refuses on another at once, skips the server after %d failures (max_fails) and tries it again every %s (fail_timeout)",
		t.MaxFails, rewrite.FormatDuration(t.FailTimeout))
}

func (failure) Short(t rewrite.Timers) string {
	if !t.Checks {
		return "no health checks in production"
	}
	return "production: retried at once, back after fail_timeout " + rewrite.FormatDuration(t.FailTimeout)
}

// FailTimeout is the fail_timeout that stands for checks every interval
// with maxFails failures in a row: interval × maxFails, rounded up to
// whole seconds (NGINX counts fail_timeout in seconds), at least 1s.
// generate writes it, and verify reads it back the same way.
func FailTimeout(interval time.Duration, maxFails int) time.Duration {
	d := interval * time.Duration(max(maxFails, 1))
	return max(time.Second, (d+time.Second-1)/time.Second*time.Second)
}
