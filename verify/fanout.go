package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/report"
)

// Fan-out timing.
const (
	// fanoutGap is the pause between publishing rounds, so that a fault
	// halfway falls between messages.
	fanoutGap = 50 * time.Millisecond
	// fanoutQuiet ends a wait for deliveries once none arrived for this
	// long; fanoutMax bounds it.
	fanoutQuiet = 1500 * time.Millisecond
	fanoutMax   = 30 * time.Second
	// fanoutBack bounds waiting for the nodes to be back on the broker
	// after it restarted, and for a stopped node's clients to come back.
	fanoutBack = 30 * time.Second
	// fanoutRefuseWait bounds the wait for the nodes to refuse the round
	// published while the broker is down (Kafka's publish gives up after
	// 5 s).
	fanoutRefuseWait = 8 * time.Second
)

// fanoutScenarios runs the fan-out scenarios asked for, in order.
func (r *runner) fanoutScenarios() error {
	for _, name := range []string{ScenarioFanout, ScenarioFanoutNodeStop, ScenarioFanoutBrokerRestart} {
		if !r.opts.wants(name) {
			continue
		}
		started := time.Now()
		switch {
		case name != ScenarioFanout && r.env.deployed:
			r.skip(name, "--against drives a deployed topology, whose servers and broker this run does not control", started)
			continue
		case name == ScenarioFanoutNodeStop && len(r.plan.Servers) < 2:
			r.skip(name, "the pool has a single node", started)
			continue
		case name == ScenarioFanoutBrokerRestart && r.env.broker == nil:
			r.skip(name, "the pool's nodes share no broker", started)
			continue
		case name == ScenarioFanoutBrokerRestart && r.env.broker.server == nil:
			r.skip(name, "wslb restarts only a broker it started itself (--broker-start KIND, or a topology's broker block)", started)
			continue
		}
		r.progress(name)
		in, err := r.fanout(name)
		if err != nil {
			return fmt.Errorf("%s scenario: %w", name, err)
		}
		if r.obs.Fanout == nil {
			r.obs.Fanout = map[string]*FanoutInput{}
		}
		r.obs.Fanout[name] = in
		r.note(name, started)
	}
	return nil
}

// fanout runs one fan-out scenario: every client joins its room and
// publishes r.opts.Publish messages, one round at a time; the fault of the
// scenario, if any, happens once half the rounds have been delivered.
func (r *runner) fanout(name string) (*FanoutInput, error) {
	k := r.opts.Publish
	f, err := r.fleet.h.OpenFanout(r.ctx, harness.FanoutSpec{RoomSize: r.opts.RoomSize, Messages: k, ReconnectFor: fanoutBack})
	if f != nil {
		defer f.Close()
	}
	if err != nil {
		return nil, err
	}
	in := &FanoutInput{Name: name, Messages: k, Broker: r.env.describeBroker()}
	since := time.Now()
	half := (k + 1) / 2
	var stopped string
	for m := 1; m <= k; m++ {
		if m == half+1 && name != ScenarioFanout {
			// Nothing in flight at the fault: what the first half
			// published has arrived (or never will).
			f.Wait(r.ctx, f.Expected(m-1), fanoutQuiet, fanoutMax)
			switch name {
			case ScenarioFanoutNodeStop:
				stopped = busiestNode(f.Result())
				if err := r.env.servers.Stop(r.ctx, stopped); err != nil {
					return nil, err
				}
				in.Stopped, in.StoppedAt = stopped, time.Now()
				r.event(report.EventBackendDown, stopped)
			case ScenarioFanoutBrokerRestart:
				if err := r.restartBroker(r.ctx, f, in, m); err != nil {
					return nil, err
				}
				m++ // restartBroker published round m while the broker was down
				if m > k {
					continue
				}
			}
		}
		if err := f.Publish(r.ctx, m); err != nil {
			return nil, err
		}
		if err := sleep(r.ctx, fanoutGap); err != nil {
			return nil, err
		}
	}
	f.Wait(r.ctx, f.Expected(k), fanoutQuiet, fanoutMax)
	if stopped != "" {
		if err := r.env.servers.Start(r.ctx, stopped); err != nil {
			in.Errors = append(in.Errors, fmt.Sprintf("%s did not start again: %v", stopped, err))
		} else {
			r.event(report.EventBackendUp, stopped)
		}
	}
	res := f.Result()
	in.Clients, in.Latency, in.Span = res.Clients, res.Latency, res.Span
	in.Events = r.env.busEvents(since, r.poolNodes())
	return in, r.ctx.Err()
}

// restartBroker stops the broker, publishes round m while it is down,
// starts it again and waits until every node that lost it is back.
func (r *runner) restartBroker(ctx context.Context, f *harness.Fanout, in *FanoutInput, m int) error {
	b := r.env.broker
	in.BrokerDown = time.Now()
	if err := b.server.Stop(); err != nil {
		return fmt.Errorf("stopping the broker: %w", err)
	}
	r.event("broker-down", b.describe())
	if err := f.Publish(ctx, m); err != nil {
		return err
	}
	// The round must be refused while the broker is down, not read by a
	// busy node once it is back (and lost before the others subscribed
	// again); a node that accepts it anyway is the judge's to report.
	f.WaitRefused(ctx, m, fanoutRefuseWait)
	if err := sleep(ctx, fanoutGap); err != nil {
		return err
	}
	if err := b.server.Start(ctx); err != nil {
		in.Errors = append(in.Errors, fmt.Sprintf("the broker did not start again: %v", err))
		return nil
	}
	in.BrokerUp = time.Now()
	r.event("broker-up", b.describe())
	// Every node that saw the broker go must see it back before the rest
	// is published; one that does not is reported by the judge.
	deadline := time.Now().Add(fanoutBack)
	for time.Now().Before(deadline) {
		if r.env.allBackOnBroker(in.BrokerDown, r.poolNodes()) {
			return nil
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// poolNodes are the ids of the servers of the pool under test.
func (r *runner) poolNodes() map[string]bool {
	ids := make(map[string]bool, len(r.plan.Servers))
	for _, s := range r.plan.Servers {
		ids[s.ID] = true
	}
	return ids
}

// busiestNode is the node the most joined clients are on.
func busiestNode(res *harness.FanoutResult) string {
	count := map[string]int{}
	best, most := "", 0
	for _, c := range res.Clients {
		if len(c.Backends) == 0 {
			continue
		}
		b := c.Backends[len(c.Backends)-1]
		if count[b]++; count[b] > most || count[b] == most && b < best {
			best, most = b, count[b]
		}
	}
	return best
}
