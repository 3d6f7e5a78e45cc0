package rewrite

import (
	"strconv"
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

// FastMs is driver.FastCheckInterval written in milliseconds, as both
// proxies read it ("100ms").
var FastMs = strconv.FormatInt(driver.FastCheckInterval.Milliseconds(), 10) + "ms"

// SameTimers are the timers every server of a pool has; unknown (zero)
// when servers differ or there are none.
func SameTimers(all []Timers) Timers {
	for _, t := range all {
		if t != all[0] {
			return Timers{}
		}
	}
	if len(all) == 0 {
		return Timers{}
	}
	return all[0]
}

// FailureModel is how a proxy notices a dead server and takes it back,
// judged from the timers its config sets (known ones: callers handle
// !Timers.Known). Each proxy package registers its own.
type FailureModel interface {
	// FromHealth is the timers the generator renders from a topology
	// pool's health check.
	FromHealth(h topology.HealthCheck) Timers
	// RouteAround is how long the proxy takes to stop sending clients to
	// a server that died; ok is false when it never does by itself.
	RouteAround(t Timers) (d time.Duration, ok bool)
	// TakeBack is how long the proxy takes to send clients to a server
	// that came back.
	TakeBack(t Timers) time.Duration
	// Describe says, in one sentence, what the timers mean for a dead
	// server; Short says it in a few words.
	Describe(t Timers) string
	Short(t Timers) string
}

var failureModels = proxy.NewPerKind[FailureModel]("rewrite: a failure model")

// RegisterFailureModel adds the failure model of the proxy kind; the
// proxy's package calls it from init. A second one is a programming error.
func RegisterFailureModel(kind proxybin.Kind, m FailureModel) { failureModels.Register(kind, m) }

// Failure is the failure model of kind, nil when none is registered.
func Failure(kind proxybin.Kind) FailureModel { return failureModels.Get(kind) }

// FormatDuration prints a duration briefly, as reports show timers: 6s,
// 1.5s, 300ms.
func FormatDuration(d time.Duration) string {
	if d >= time.Second {
		// From whole milliseconds: Seconds() adds the fraction in floating
		// point and can print 1.6600000000000001.
		ms := d.Round(10 * time.Millisecond).Milliseconds()
		return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64) + "s"
	}
	return d.Round(time.Millisecond).String()
}
