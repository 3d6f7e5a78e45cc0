package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/internal/backendcmd"
	"github.com/wslb/wslb/internal/brokerproc"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

// userBackends is what --backend-cmd started in a run: the runner of the
// user's servers and, with --redis, the redis-server they share.
type userBackends struct {
	runner *backendcmd.Runner
	redis  driver.Broker
}

// startBackends starts one backend per id in e: wslb's echo server, or
// with opts.BackendCmd the user's command (after redis-server when
// opts.Redis), waiting until every one answers its health path (health
// maps a server id to it; none: until its port accepts).
func (e *env) startBackends(ctx context.Context, ids []string, health map[string]string, opts Options) error {
	b, err := startBroker(ctx, e.rt, opts, e.servicePlace)
	if err != nil {
		return err
	}
	e.broker = b
	if opts.BackendCmd == "" {
		e.backends.broker = b
		spec := driver.BackendSpec{IDs: ids, New: e.backends.factory, Echo: true}
		if b != nil {
			spec.Broker = b.echoBroker()
		}
		return e.runBackends(ctx, spec)
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("backend-cmd: %w", err)
	}
	clients := e.rt.Clients()
	u := &userBackends{runner: &backendcmd.Runner{
		Cmd: opts.BackendCmd, WorkDir: wd, Scratch: e.rt.Dir(), HealthPath: health,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return clients.Dial(ctx, &net.Dialer{}, network, addr)
		},
	}}
	e.user = u
	if b != nil {
		u.runner.Env = append(u.runner.Env, b.env()...)
	}
	if opts.Redis {
		if u.redis, err = runBroker(ctx, e.rt, broker.Redis, e.servicePlace); err != nil {
			return err
		}
		u.runner.Env = append(u.runner.Env, "REDIS_URL="+u.redis.URL())
	}
	err = e.runBackends(ctx, driver.BackendSpec{IDs: ids, New: func(id string) (driver.Server, error) {
		return u.runner.Backend(id)
	}, Command: &driver.Command{Script: u.runner.Script, Dir: wd}})
	if err != nil {
		return err
	}
	addrs := make(map[string]string, len(ids))
	for _, id := range ids {
		addrs[id] = e.servers.Addr(id)
	}
	return u.runner.WaitReady(ctx, addrs)
}

// servicePlace is where a service the backends share runs: on a host of
// its own when the driver gives the backends hosts of their own (they
// cannot reach wslb's loopback), else on loopback.
func (e *env) servicePlace(name string) (brokerproc.Place, error) {
	sh, ok := e.rt.(driver.ServiceHoster)
	if !ok {
		return brokerproc.Place{}, nil
	}
	h, err := sh.ServiceHost(name)
	if err != nil {
		return brokerproc.Place{}, err
	}
	return brokerproc.Place{Host: h.Addr, NetNS: h.NetNS, Dial: h.Dial, Listen: h.Listen}, nil
}

// close stops what --backend-cmd started; the backends themselves are
// stopped with the rest of the run's environment, before redis.
func (u *userBackends) close() error {
	if u == nil || u.redis == nil {
		return nil
	}
	return u.redis.Close()
}

// topologyHealth maps every server id to its pool's health path.
func topologyHealth(t *topology.Topology, ids map[*topology.Server]string) map[string]string {
	m := map[string]string{}
	for _, p := range t.Pools {
		if !p.Health.Enabled {
			continue
		}
		for _, s := range p.Servers {
			m[ids[s]] = p.Health.Path
		}
	}
	return m
}

// outputLines is how many of each server's last output lines a failed
// scenario shows.
const outputLines = 5

// withOutputs adds, to every failed scenario of run, the last lines each
// user server printed: the application's own account of what went wrong.
func (e *env) withOutputs(run *report.Run) {
	if e.user == nil || run == nil || run.Passed {
		return
	}
	outs := e.user.runner.Outputs()
	if o, ok := e.servers.(driver.Outputs); ok {
		// The driver ran the servers: their output is its.
		for _, id := range e.servers.IDs() {
			if len(outs[id]) == 0 {
				outs[id] = o.Output(id, outputLines)
			}
		}
	}
	ids := make([]string, 0, len(outs))
	for id := range outs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var lines []string
	for _, id := range ids {
		out := outs[id]
		if len(out) > outputLines {
			out = out[len(out)-outputLines:]
		}
		for _, l := range out {
			lines = append(lines, fmt.Sprintf("backend %s output: %.200s", id, l))
		}
	}
	for _, sc := range run.Scenarios {
		if !sc.Passed && !sc.Skipped {
			sc.Details = append(sc.Details, lines...)
		}
	}
}

// closeAll tears e down: the proxy, the backends and the scratch dir,
// with redis stopped after the backends that use it.
func (e *env) closeAll() error {
	e.watch.close() // before the proxy stops, which is no failure
	var errs []error
	if e.proxy != nil {
		errs = append(errs, e.proxy.Close())
	}
	if e.servers != nil {
		errs = append(errs, e.servers.Close())
	}
	errs = append(errs, e.user.close(), e.broker.close(), e.rt.Close())
	return errors.Join(errs...)
}
