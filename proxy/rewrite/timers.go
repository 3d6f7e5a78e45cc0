package rewrite

import (
	"strconv"

	"github.com/wslb/wslb/driver"
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
