package verify

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wslb/wslb/driver"
)

// waitChecks waits (up to settleMax) until the proxy has a health check
// result for every server of the pool it checks, and sees each up
// (servers in maintenance apart). HAProxy counts a checked server up
// before its first check and takes it down at the first that fails, until
// rise checks pass: on a loaded machine a first check can miss its
// connect timeout (the fast checks' interval), and clients that came
// before the checks settled would be judged on that. A proxy without a
// runtime API is not waited for; servers still not up after settleMax
// go on the timeline, and the scenarios judge what the clients see.
func (r *runner) waitChecks() error {
	addrs := map[string]string{}
	for _, s := range r.plan.Servers {
		addrs[r.env.servers.Addr(s.ID)] = s.ID
	}
	start := time.Now()
	var waiting []string
	for {
		states, err := r.env.proxy.ServerStates(r.ctx)
		if errors.Is(err, driver.ErrNoServerState) {
			return nil
		}
		if err == nil {
			waiting = unsettled(states, addrs)
			if len(waiting) == 0 {
				return nil
			}
		}
		if time.Since(start) >= settleMax {
			break
		}
		if err := sleep(r.ctx, proxyViewPoll); err != nil {
			return err
		}
	}
	if len(waiting) > 0 {
		r.event("checks-unsettled", fmt.Sprintf("%s not up in the proxy's health checks after %s", strings.Join(waiting, ", "), settleMax))
	}
	return nil
}

// unsettled names the servers of addrs (address → id) that the proxy does
// not see up with a check result in, sorted; servers in maintenance and
// servers the proxy does not list are not waited for.
func unsettled(states []driver.ServerState, addrs map[string]string) []string {
	var ids []string
	for _, st := range states {
		id, ok := addrs[st.Addr]
		if !ok || st.Maint || st.Up && !st.Pending || slices.Contains(ids, id) {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
