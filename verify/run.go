package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

// IdentityHeader is the response header verify asks the proxy to add, naming
// the server that served the request, so that a backend's identity is known
// from the proxy's side too: in generated configs the one rewritten configs
// add.
const IdentityHeader = rewrite.ServerHeader

// Bounds of the waits inside scenarios.
const (
	// settleMax bounds waiting for the proxy to route around a stopped
	// backend or to take a returned one back (health checks take interval
	// × fall, resp. × rise).
	settleMax = 45 * time.Second
	// settlePoll is the pause between probes while settling.
	settlePoll = 50 * time.Millisecond
	// sampleEvery is the timeline sampling period.
	sampleEvery = 250 * time.Millisecond
	// maxSamples bounds the timeline.
	maxSamples = 2000
	// reloadNewClients bounds the clients connecting after a reload while
	// every client still holds its connection (descriptors).
	reloadNewClients = 500
	// probeClients is how many fresh clients look for a returned backend.
	probeClients = 16
	// placeMessages is the messages per connection after the baseline: the
	// failover and reload phases judge where connections land and whether
	// they work, which one echo (naming its backend) shows; the baseline's
	// --messages already measured the message stream. Each further echo
	// costs two proxied hops in the kernel and was most of those phases.
	placeMessages = 1
)

// env is one running proxy in front of echo backends.
type env struct {
	kind    proxybin.Kind
	version string
	// rt is the driver's run: the servers and the proxy are what it
	// started.
	rt driver.Env
	// driverWhy says why rt's driver runs this (driver.Choice).
	driverWhy string
	servers   driver.Backends
	proxy     driver.Proxy
	backends  *echoBackends
	watch     *proxyWatch   // set once the proxy runs
	user      *userBackends // with --backend-cmd
	broker    *poolBroker   // the nodes' broker, if they share one
	// deployed: the proxy and its servers were deployed by someone else
	// (Options.Against); rt, servers and proxy are nil.
	deployed bool
}

func (e *env) close() error { return e.closeAll() }

// newEnv opens a run of the driver opts name.
func newEnv(ctx context.Context, bin proxybin.Binary, opts Options) (*env, error) {
	c, err := driver.Choose(opts.Driver, opts.needs())
	if err != nil {
		return nil, err
	}
	rt, err := c.Driver.Open(ctx, driver.Options{Clients: opts.Clients, ProxyImages: opts.ProxyImages, BackendImage: opts.BackendImage})
	if err != nil {
		return nil, fmt.Errorf("driver %s: %w", c.Driver.Name, err)
	}
	return &env{kind: bin.Kind, version: bin.Version.String(), rt: rt, driverWhy: c.Why, backends: newEchoBackends()}, nil
}

// runBackends has the driver run the backends spec says.
func (e *env) runBackends(ctx context.Context, spec driver.BackendSpec) error {
	var err error
	e.servers, err = e.rt.StartBackends(ctx, spec)
	if c, ok := e.servers.(driver.EchoCounter); ok && spec.Echo {
		// The echo servers run outside this process: the driver
		// counts their connections.
		e.backends.remote = c
	}
	return err
}

// backendName is the server id behind an identity header's value: NGINX
// gives $upstream_addr ("HOST:PORT", the last of a list when it
// retried), HAProxy the name itself.
func (e *env) backendName(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	v = strings.TrimSpace(v)
	if id, ok := e.servers.IDByAddr(v); ok {
		return id
	}
	return v
}

// proxyFailure says why the proxy died or stopped answering ("" while it
// is fine), and its last log lines then.
func (e *env) proxyFailure() (string, []string) { return e.watch.failed() }

// echoBackends makes the echo servers the driver runs and remembers
// the current instance of each, for connection counts; or asks the
// driver for them, when its echo servers run outside this process.
type echoBackends struct {
	// remote counts the connections of echo servers the driver runs as
	// processes or containers of their own (nil: they are in live).
	remote driver.EchoCounter
	mu     sync.Mutex
	live   map[string]*echo.Server
	// retired sums the connections accepted by instances a restart
	// replaced, so accepted counts only grow.
	retired map[string]uint64
	// broker, when set, is the broker every backend publishes through.
	broker *poolBroker
}

func newEchoBackends() *echoBackends {
	return &echoBackends{live: map[string]*echo.Server{}, retired: map[string]uint64{}}
}

func (b *echoBackends) factory(id string) (driver.Server, error) {
	var s *echo.Server
	var srv driver.Server
	if b.broker != nil {
		n, err := newBusNode(id, b.broker, echo.Config{ID: id})
		if err != nil {
			return nil, err
		}
		s, srv = n.Server, n
	} else {
		var err error
		if s, err = echo.New(echo.Config{ID: id}); err != nil {
			return nil, err
		}
		srv = s
	}
	b.mu.Lock()
	if old := b.live[id]; old != nil {
		b.retired[id] += old.Stats().Total
	}
	b.live[id] = s
	b.mu.Unlock()
	return srv, nil
}

// backendCount is one backend's connection counters at an instant.
type backendCount struct {
	open     int    // open now
	accepted uint64 // accepted since the run started, across restarts
}

// counts snapshots every backend's counters.
func (b *echoBackends) counts(ctx context.Context) map[string]backendCount {
	if b.remote != nil {
		stats := b.remote.EchoStats(ctx)
		m := make(map[string]backendCount, len(stats))
		for id, st := range stats {
			m[id] = backendCount{open: st.Open, accepted: st.Accepted}
		}
		return m
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	m := make(map[string]backendCount, len(b.live))
	for id, s := range b.live {
		st := s.Stats()
		m[id] = backendCount{open: st.Open, accepted: b.retired[id] + st.Total}
	}
	return m
}

// servedBetween counts per backend the connections open at some time
// between two snapshots: those open at the first plus those accepted since.
func servedBetween(prev, now map[string]backendCount, ids []string) map[string]int {
	m := make(map[string]int, len(ids))
	for _, id := range ids {
		p, n := prev[id], now[id]
		m[id] = p.open + int(n.accepted-min(p.accepted, n.accepted))
	}
	return m
}

// openOf is the open WebSocket connections per backend of counts.
func openOf(counts map[string]backendCount) map[string]int {
	m := make(map[string]int, len(counts))
	for id, c := range counts {
		m[id] = c.open
	}
	return m
}

// runPool runs the selected scenarios against one pool and returns the
// Run and what it observed (which the Run's scenarios judge).
func runPool(ctx context.Context, e *env, plan poolPlan, opts Options) (*report.Run, *Observations, error) {
	_, clients := opts.Shard.Range(opts.Clients)
	run := &report.Run{
		Proxy:        string(e.kind),
		ProxyVersion: e.version,
		Pool:         plan.Name,
		Affinity:     report.Affinity{Mode: string(plan.Key.Mode), Key: plan.Key.Name},
		Started:      time.Now(),
		Clients:      clients,
		Reconnects:   opts.Reconnects,
		Messages:     opts.Messages,
	}
	if plan.Key.Mode == topology.AffinityHeader {
		if err := harness.CheckSendable(plan.Key.Name); err != nil {
			// The harness cannot exercise this key: say so instead of
			// reporting the proxy's affinity as broken.
			obs := newObservations(plan, opts)
			for _, s := range opts.Scenarios {
				obs.Skips[s] = err.Error()
			}
			run.Scenarios = Judge(obs)
			run.Passed = true
			return run, obs, nil
		}
	}
	defer tuneGC()()
	r := &runner{ctx: ctx, env: e, plan: plan, opts: opts, run: run, obs: newObservations(plan, opts), conns: map[string]int{}, first: map[string]int{}, firstOf: map[string]string{}}
	plan.resolve = e.backendName
	var sources harness.Sources
	if !e.deployed {
		sources = e.rt.Clients()
	}
	f, err := newFleet(plan, opts, sources)
	if err != nil {
		return nil, nil, err
	}
	r.fleet = f
	if !e.deployed {
		r.progress("waiting for the proxy's first health checks")
		if err := r.waitChecks(); err != nil {
			return nil, nil, err
		}
	}

	// The round trip the report shows is the probe's: a few
	// connections through the proxy, next to the same straight to a
	// backend. The load phases report throughput and queueing apart.
	r.progress("measuring round trips")
	// A Socket.IO server does not echo: no direct round trips.
	// A deployed topology's backends are not ours to reach directly.
	if direct := directBackend(plan.Servers); direct != "" && opts.Client != harness.ClientSocketIO && !e.deployed {
		if run.RTT, run.DirectRTT, err = f.rttProbe(ctx, e.servers.Addr(direct)); err != nil {
			return nil, nil, err
		}
	}

	stopSampler := func() {}
	if !e.deployed {
		// The timeline counts the echo backends' connections.
		stopSampler = r.sample()
	}
	err = r.scenarios()
	stopSampler()
	if err != nil {
		if why, log := e.proxyFailure(); why != "" {
			// What failed failed because the proxy went away.
			return nil, nil, fmt.Errorf("%s (then: %w)\n--- proxy log (last lines) ---\n%s", why, err, strings.Join(log, "\n"))
		}
		return nil, nil, err
	}
	run.Duration = time.Since(run.Started)
	run.Load = f.load()
	if opts.afterRun != nil {
		opts.afterRun(plan)
	}
	run.Errors = f.errors()
	run.Errors.Dropped = r.dropped
	for _, s := range plan.Servers {
		run.Backends = append(run.Backends, &report.Backend{
			ID: s.ID, Weight: s.Weight, Backup: s.Backup,
			Clients: r.first[s.ID], Connections: r.conns[s.ID],
		})
	}
	run.Scenarios = Judge(r.obs)
	run.Passed = passed(run.Scenarios)
	e.withOutputs(run)
	run.Hosts = e.hosts(plan, f)
	if e.broker != nil {
		run.Broker = e.broker.describe()
	}
	if !e.deployed {
		run.Driver, run.DriverWhy = e.rt.Driver(), e.driverWhy
		run.Images = e.images(ctx)
	}
	return run, r.obs, nil
}

// images are the container images the run's nodes ran from, when its
// driver runs containers.
func (e *env) images(ctx context.Context) []report.Image {
	im, ok := e.rt.(driver.Imager)
	if !ok {
		return nil
	}
	var out []report.Image
	for _, i := range im.Images(ctx) {
		out = append(out, report.Image{Role: i.Role, Ref: i.Ref, ID: i.ID})
	}
	return out
}

// hosts are the addresses a run used: the listener, the backends', and
// the clients' sources (in source mode: how many, over how many /24s).
func (e *env) hosts(plan poolPlan, f *fleet) report.Hosts {
	h := report.Hosts{Proxy: plan.Listener, Backends: map[string]string{}}
	for _, s := range plan.Servers {
		if e.servers != nil { // nil against a deployed proxy
			h.Backends[s.ID] = e.servers.Addr(s.ID)
		}
	}
	nets := map[[3]byte]bool{}
	var first netip.Addr
	for _, c := range f.clients {
		if a := c.Source.Unmap(); a.Is4() {
			b := a.As4()
			nets[[3]byte{b[0], b[1], b[2]}] = true
			if !first.IsValid() {
				first = a
			}
		}
	}
	if first.IsValid() {
		h.Clients = fmt.Sprintf("%d source addresses in %d /24s (first %s)", len(f.clients), len(nets), first)
	}
	return h
}

// directBackend is the server the RTT probe reaches directly: the first
// primary.
func directBackend(servers []BackendInfo) string {
	for _, s := range servers {
		if !s.Backup {
			return s.ID
		}
	}
	if len(servers) > 0 {
		return servers[0].ID
	}
	return ""
}

// runner carries one Run through its phases.
type runner struct {
	ctx   context.Context
	env   *env
	plan  poolPlan
	opts  Options
	run   *report.Run
	obs   *Observations
	fleet *fleet

	mu      sync.Mutex
	conns   map[string]int    // connections served per backend
	first   map[string]int    // clients per backend (first connection, baseline)
	firstOf map[string]string // client → backend of its first connection

	phase, phases int
	dropped       int               // held connections that ended unexpectedly
	latest        map[string]string // client → backend in the last full phase
}

func (r *runner) progress(phase string) {
	if r.opts.Progress == nil {
		return
	}
	r.opts.Progress(Progress{Proxy: r.run.Proxy, Pool: r.plan.Name, Phase: phase, Done: r.phase, Total: r.phases})
}

func (r *runner) event(kind, detail string) {
	at, open := time.Since(r.run.Started), r.openOnPool(openOf(r.env.backends.counts(r.ctx)))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.run.Timeline = append(r.run.Timeline, report.Event{
		At: at, Kind: kind, Detail: detail, Connections: open,
	})
}

// openOnPool picks the pool's backends from all's open connections
// (counted outside r.mu: a driver may take a moment to ask them).
func (r *runner) openOnPool(all map[string]int) map[string]int {
	m := make(map[string]int, len(r.plan.Servers))
	for _, s := range r.plan.Servers {
		m[s.ID] = all[s.ID]
	}
	return m
}

// sample records on the timeline, every sampleEvery and once more when
// the returned stop function is called, the connections each backend
// served in the interval and those open at its end.
func (r *runner) sample() (stop func()) {
	ids := make([]string, len(r.plan.Servers))
	for i, s := range r.plan.Servers {
		ids[i] = s.ID
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		prev, prevAt := r.env.backends.counts(r.ctx), time.Now()
		for n := 0; n < maxSamples; n++ {
			select {
			case <-done:
				// The interval the stop cut short: a phase shorter
				// than sampleEvery is on the timeline too.
				if now, at := r.env.backends.counts(r.ctx), time.Now(); at.Sub(prevAt) > 0 {
					r.sampled(servedBetween(prev, now, ids), now, at.Sub(prevAt))
				}
				return
			case <-t.C:
				now, at := r.env.backends.counts(r.ctx), time.Now()
				r.sampled(servedBetween(prev, now, ids), now, at.Sub(prevAt))
				prev, prevAt = now, at
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (r *runner) sampled(served map[string]int, now map[string]backendCount, interval time.Duration) {
	at, open := time.Since(r.run.Started), r.openOnPool(openOf(now))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.run.Timeline = append(r.run.Timeline, report.Event{
		At: at, Kind: report.EventSample,
		Connections: open, Served: served, Interval: interval,
	})
}

// count adds a phase's connections to the per-backend totals.
func (r *runner) count(traces []Trace) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range traces {
		for _, b := range t.Backends {
			r.conns[b]++
		}
	}
}

// note records that a scenario's observations are complete: how long it
// took, and whether the proxy had died or stopped answering by then
// (Judge fails the scenario if so).
func (r *runner) note(name string, started time.Time) {
	n := Note{Elapsed: time.Since(started)}
	n.ProxyFailure, n.ProxyLog = r.env.proxyFailure()
	r.obs.Notes[name] = n
}

// skip records that a scenario did not run, and why.
func (r *runner) skip(name, why string, started time.Time) {
	r.obs.Skips[name] = why
	r.note(name, started)
}

func (r *runner) scenarios() error {
	o := r.opts
	if r.env.deployed {
		// Stopping a server or reloading the proxy needs control of them.
		for _, s := range []string{ScenarioFailover, ScenarioReload} {
			if o.wants(s) {
				r.skip(s, "--against drives a deployed topology, whose backends and proxy this run does not control", time.Now())
			}
		}
		o.Scenarios = slices.DeleteFunc(slices.Clone(o.Scenarios), func(s string) bool { return s == ScenarioFailover || s == ScenarioReload })
	}
	r.phases = 1
	for _, s := range []string{ScenarioFailover, ScenarioReload, ScenarioIdle, ScenarioFault} {
		if o.wants(s) {
			r.phases++
		}
	}

	// Baseline: every client connects 1+Reconnects times. Stickiness and
	// spread judge it; failover and reload compare against it.
	r.progress("connecting clients")
	started := time.Now()
	base, err := r.fleet.cycle(r.ctx, r.fleet.all(), o.Reconnects+1, o.Messages)
	if err != nil {
		return err
	}
	r.count(base)
	for _, t := range base {
		if b := t.first(); b != "" {
			r.first[b]++
			r.firstOf[t.Client] = b
		}
	}
	r.run.Stickiness = Stickiness(base)
	r.obs.Baseline = base
	r.note(ScenarioStickiness, started)
	r.note(ScenarioSpread, started)
	if err := r.fanoutScenarios(); err != nil {
		return err
	}
	if o.wants(ScenarioBroadcast) {
		r.progress("broadcast")
		started := time.Now()
		in, err := r.broadcast()
		if err != nil {
			return err
		}
		r.obs.Broadcast = &in
		r.note(ScenarioBroadcast, started)
	}
	r.phase++
	before := stuckTo(base)
	r.latest = before

	var fo *failoverRun
	if o.wants(ScenarioFailover) {
		r.progress("failover")
		if fo, err = r.failover(before); err != nil {
			return err
		}
	}
	// The reload's held connections, one per client opened after the
	// failover's return, are also where the failover sees each client
	// land after the return: one connection each, opened once for both.
	if o.wants(ScenarioReload) {
		if fo != nil {
			r.progress("failover: where clients land after the return")
		}
		reloadStarted := time.Now()
		held, err := r.fleet.hold(r.ctx)
		if err != nil {
			return err
		}
		if fo != nil {
			r.finishFailover(fo, held.traces())
			r.phase++
		}
		r.progress("reload")
		err = r.reload(held, reloadStarted)
		held.close()
		if err != nil {
			return err
		}
		r.phase++
	} else if fo != nil {
		// One connection per client shows where each lands now (moved back
		// or stayed); stickiness was judged by the full phases before.
		after, err := r.fleet.cycle(r.ctx, r.fleet.all(), 1, placeMessages)
		if err != nil {
			return err
		}
		r.finishFailover(fo, after)
		r.phase++
	}
	if o.wants(ScenarioIdle) {
		r.progress(fmt.Sprintf("idle %s", o.Idle))
		if err := r.idle(); err != nil {
			return err
		}
		r.phase++
	}
	if o.wants(ScenarioFault) {
		if err := r.faults(); err != nil {
			return err
		}
		r.phase++
	}
	r.progress("done")
	return nil
}

// stuckTo maps every client that stayed on one backend to it.
func stuckTo(traces []Trace) map[string]string {
	m := map[string]string{}
	for _, t := range traces {
		if d := t.distinct(); len(d) == 1 && t.Errors == 0 {
			m[t.Client] = d[0]
		}
	}
	return m
}

// victim picks the backend to stop: the healthy backend with the most
// clients, so the failover has the most clients to move.
func victim(before map[string]string, servers []BackendInfo) string {
	count := map[string]int{}
	for _, b := range before {
		count[b]++
	}
	best, most := "", 0
	for _, s := range servers {
		if !s.Backup && count[s.ID] > most {
			best, most = s.ID, count[s.ID]
		}
	}
	return best
}

// failoverRun is a failover scenario whose backend is back: what it
// observed until then, waiting for where the clients land after the
// return.
type failoverRun struct {
	in       FailoverInput
	started  time.Time
	returned bool
	settled  bool
}

// failover stops the busiest backend, waits until the proxy routes its
// clients elsewhere, checks every client while it is down, starts it again
// and waits until the proxy sends clients to it. It returns nil when the
// scenario was decided (skipped) without that; finishFailover judges it
// once the clients' connections after the return are known.
func (r *runner) failover(before map[string]string) (*failoverRun, error) {
	started := time.Now()
	// A single primary with a backup fails over to the backup.
	if len(r.plan.Servers) < 2 {
		r.skip(ScenarioFailover, "the pool has a single server", started)
		return nil, nil
	}
	unpinned := r.plan.Key.Mode == topology.AffinityNone
	failed := victim(before, r.plan.Servers)
	if unpinned {
		failed = victim(r.firstOf, r.plan.Servers)
	}
	if r.opts.Shard.Sharded() {
		// Every shard must stop the same server for their failovers to
		// merge into one, and no shard knows the others' clients: the
		// first primary, which they all name alike.
		failed = directBackend(r.plan.Servers)
	}
	if failed == "" {
		r.obs.Failover = &FailoverObs{NoVictim: true}
		r.note(ScenarioFailover, started)
		return nil, nil
	}
	var orphans []int
	for i := range r.fleet.clients {
		name := r.fleet.clientName(i)
		if before[name] == failed || unpinned && r.firstOf[name] == failed {
			orphans = append(orphans, i)
		}
	}

	addr := r.env.servers.Addr(failed)
	if err := r.env.servers.Stop(r.ctx, failed); err != nil {
		return nil, fmt.Errorf("failover: %w", err)
	}
	r.event(report.EventBackendDown, failed)
	stopped := time.Now()
	// Where the proxy has a runtime API, wait for its own view first: the
	// probes below then confirm rather than poll a timer.
	var proxyDown time.Duration
	if seen, err := r.waitProxyView(addr, false); err != nil {
		return nil, err
	} else if seen {
		proxyDown = time.Since(stopped)
	}
	// Wait until the proxy routes the orphans elsewhere, consistently: two
	// probe rounds in a row with every orphan served by a survivor, the
	// same one both times.
	var prev map[string]string
	var prevProbe, lastProbe []Trace
	settled := false
	transient := 0 // failed probe connections while the proxy caught up
	for time.Since(stopped) < settleMax {
		probe, err := r.fleet.probeClients(r.ctx, orphans)
		if err != nil {
			return nil, err
		}
		for _, t := range probe {
			transient += t.Errors
		}
		now := map[string]string{}
		ok := true
		for _, t := range probe {
			if len(t.Backends) != 1 || t.Errors > 0 || t.Backends[0] == failed {
				ok = false
				break
			}
			now[t.Client] = t.Backends[0]
		}
		// Two clean rounds in a row; with affinity, each orphan on the same
		// survivor both times (a round can avoid a dead server by luck).
		if ok && prev != nil && (unpinned || maps.Equal(prev, now)) {
			settled = true
			lastProbe = probe
			break
		}
		if ok {
			// The confirming round follows at once: only waiting for the
			// proxy to catch up needs a pause.
			prev, prevProbe = now, probe
			continue
		}
		prev, prevProbe = nil, nil
		if err := sleep(r.ctx, settlePoll); err != nil {
			return nil, err
		}
	}
	settle := time.Since(stopped)
	if settled {
		r.event("routed-around", fmt.Sprintf("%s: clients re-pinned after %s", failed, settle.Round(time.Millisecond)))
	}

	// Every client connects once more now that the proxy routed around the
	// stopped backend: the others must be where the baseline put them (the
	// baseline's 1 + reconnects connections judged their stickiness), and
	// each orphan on the survivor both settled probe rounds put it on, so
	// an orphan is judged over three connections in a row.
	during, err := r.fleet.cycle(r.ctx, r.fleet.all(), 1, placeMessages)
	if err != nil {
		return nil, err
	}
	r.count(during)
	if settled {
		during = withProbes(during, prevProbe, lastProbe)
	}

	if err := r.env.servers.Start(r.ctx, failed); err != nil {
		return nil, fmt.Errorf("failover: %w", err)
	}
	r.event(report.EventBackendUp, failed)
	// Wait until fresh clients reach the returned backend (health checks
	// need interval × rise; NGINX retries it after fail_timeout).
	back := time.Now()
	var proxyUp time.Duration
	if seen, err := r.waitProxyView(addr, true); err != nil {
		return nil, err
	} else if seen {
		proxyUp = time.Since(back)
	}
	returned := false
	for time.Since(back) < settleMax {
		probe, err := r.fleet.probe(r.ctx, probeClients)
		if err != nil {
			return nil, err
		}
		if served(probe, failed) {
			returned = true
			break
		}
		if err := sleep(r.ctx, settlePoll); err != nil {
			return nil, err
		}
	}
	return &failoverRun{
		in: FailoverInput{
			Failed: failed, Before: before, During: during,
			Strict: r.plan.Strict, Settle: settle, Unpinned: unpinned, Transient: transient,
			Timers: r.plan.Timers, FastChecks: !r.opts.ProductionTimers, ProxyDown: proxyDown, ProxyUp: proxyUp,
		},
		started: started, returned: returned, settled: settled,
	}, nil
}

// withProbes puts the two settled probe rounds' connections in front of
// the orphans' traces in during: they are connections made once the proxy
// had routed around the stopped backend, like during's.
func withProbes(during, prev, last []Trace) []Trace {
	probed := map[string][]Trace{}
	for _, round := range [][]Trace{prev, last} {
		for _, t := range round {
			probed[t.Client] = append(probed[t.Client], t)
		}
	}
	out := make([]Trace, len(during))
	for i, t := range during {
		ps := probed[t.Client]
		if len(ps) == 0 {
			out[i] = t
			continue
		}
		m := Trace{Client: t.Client}
		for _, p := range append(ps, t) {
			m.Backends = append(m.Backends, p.Backends...)
			m.Errors += p.Errors
		}
		out[i] = m
	}
	return out
}

// finishFailover judges the failover with after, one connection per
// client made once the stopped backend was back.
func (r *runner) finishFailover(fo *failoverRun, after []Trace) {
	r.count(after)
	// Where clients are now, for the reload to compare against.
	r.latest = stuckTo(after)
	fo.in.After = after
	r.obs.Failover = &FailoverObs{Input: fo.in, Settled: fo.settled, Returned: fo.returned}
	r.note(ScenarioFailover, fo.started)
}

// proxyViewPoll is the pause between questions to the proxy's runtime API.
const proxyViewPoll = 20 * time.Millisecond

// waitProxyView waits (up to settleMax) until the proxy itself sees the
// server at addr up (or down), and reports whether it could watch that at
// all: only a proxy with a runtime API answers (the driver says
// ErrNoServerState otherwise), and only a health-checked server is ever
// marked down.
func (r *runner) waitProxyView(addr string, up bool) (bool, error) {
	if !r.plan.Timers.Checks {
		return false, nil
	}
	start := time.Now()
	for time.Since(start) < settleMax {
		states, err := r.env.proxy.ServerStates(r.ctx)
		if errors.Is(err, driver.ErrNoServerState) {
			return false, nil
		}
		if err == nil {
			found, all := false, true
			for _, st := range states {
				if st.Addr == addr {
					found = true
					all = all && st.Up == up
				}
			}
			if !found {
				return false, nil
			}
			if all {
				return true, nil
			}
		}
		if err := sleep(r.ctx, proxyViewPoll); err != nil {
			return false, err
		}
	}
	return false, nil
}

func served(traces []Trace, backend string) bool {
	for _, t := range traces {
		if slices.Contains(t.Backends, backend) {
			return true
		}
	}
	return false
}

// reload reloads the proxy under h, one connection per client opened at
// started, then connects new clients and checks every held connection.
func (r *runner) reload(h *holding, started time.Time) error {
	// Where each client is right before the reload: its held connection,
	// opened with the same identity (and cookie jar) the new connections
	// use. An earlier phase is not the reference: a failover in between
	// re-pins clients, and a client keyed on nothing sticks to nothing.
	var before map[string]string
	if r.plan.Key.Mode != topology.AffinityNone {
		before = pinned(h.backends(), r.latest)
	}
	if err := r.env.proxy.Reload(r.ctx); err != nil {
		return fmt.Errorf("reload scenario: %w", err)
	}
	r.event(report.EventReload, "graceful reload")
	// The new workers check every server afresh.
	if err := r.waitChecks(); err != nil {
		return err
	}

	// Every held connection costs this process two descriptors (client and
	// echo backend); new connections must fit in what is left.
	n := min(len(r.fleet.clients), reloadNewClients, max(1, (fdLimit()-500)/2-h.held))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	fresh, err := r.fleet.cycle(r.ctx, idx, 1, placeMessages)
	if err != nil {
		return err
	}
	r.count(fresh)
	dropped, err := h.check(r.ctx)
	if err != nil {
		return fmt.Errorf("reload scenario: %w", err)
	}
	r.dropped += len(dropped)
	r.obs.Reload = &ReloadInput{Held: h.held, Dropped: dropped, New: fresh, Before: before}
	r.note(ScenarioReload, started)
	return nil
}

// pinned maps the clients that stuck to one backend in the last full phase
// (sticky) to the backend of their held connection (held): the clients a
// reload could move. Others are not pinned, so no move can be told apart.
func pinned(held, sticky map[string]string) map[string]string {
	m := map[string]string{}
	for c := range sticky {
		if b := held[c]; b != "" {
			m[c] = b
		}
	}
	return m
}

func (r *runner) idle() error {
	started := time.Now()
	h, err := r.fleet.hold(r.ctx)
	if err != nil {
		return err
	}
	defer h.close()
	if err := sleep(r.ctx, r.opts.Idle); err != nil {
		return err
	}
	closed, err := h.check(r.ctx)
	if err != nil {
		return fmt.Errorf("idle scenario: %w", err)
	}
	r.dropped += len(closed)
	r.obs.Idle = &IdleInput{Held: h.held, Closed: closed, Idle: r.opts.Idle}
	r.note(ScenarioIdle, started)
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// summarize builds the Summary of the runs.
func summarize(source string, runs []*report.Run) *report.Summary {
	s := &report.Summary{Source: source, Runs: runs, Passed: len(runs) > 0}
	for _, r := range runs {
		if !r.Passed {
			s.Passed = false
		}
	}
	return s
}
