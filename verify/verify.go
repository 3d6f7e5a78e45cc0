package verify

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	_ "github.com/wslb/wslb/proxy/all" // the proxies VerifyConfig rewrites
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

// VerifyTopology runs topo on each of opts.Proxies in turn and judges the
// scenarios on every selected pool: one Run per proxy and pool. A missing
// proxy binary is a *proxybin.NotFoundError before anything starts; an
// error means the verification could not be carried out (a failed
// scenario is not an error, it is Summary.Passed == false). Everything
// started is torn down before it returns, also when ctx is cancelled.
func VerifyTopology(ctx context.Context, topo *topology.Topology, opts Options) (*report.Summary, error) {
	if len(opts.Faults) == 0 {
		// The topology's test block gives the faults --fault does not.
		for _, spec := range topo.Test.Faults {
			f, err := driver.ParseFault(spec)
			if err != nil {
				r := topo.Test.FaultsRange
				return nil, inputErrorf("%s:%d:%d: %v", r.Filename, r.Start.Line, r.Start.Column, err)
			}
			opts.Faults = append(opts.Faults, f)
		}
	}
	opts, err := withTopologyBroker(topo, opts).Normalize()
	if err != nil {
		// Options that only clash with this topology (--broker-channel
		// and its pool's broker): the input is invalid, no scenario ran.
		return nil, &InputError{Err: err}
	}
	if err := topology.CheckAddresses(topo, "verify", "it runs a local backend in place of each server, or against a deployed topology tells the servers apart by name"); err != nil {
		return nil, &InputError{Err: err}
	}
	if _, err := selectPools(topo, opts.Pools); err != nil {
		return nil, err
	}
	if opts.Against != "" {
		ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		runs, err := verifyDeployed(ctx, topo, opts)
		if err != nil {
			return nil, timeoutError(ctx, opts, err)
		}
		return summarize(topo.Filename, runs), nil
	}
	bins, err := lookup(topo, opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	var runs []*report.Run
	for _, bin := range bins {
		rs, err := verifyTopologyOn(ctx, topo, bin, opts)
		if err != nil {
			return nil, timeoutError(ctx, opts, err)
		}
		runs = append(runs, rs...)
	}
	return summarize(topo.Filename, runs), nil
}

// withTopologyBroker: when a pool to verify declares a broker and the
// command line names none, the run starts one of that kind on loopback
// (the topology's URL is production's, like its server addresses) with the
// pool's channel, and so proves the fan-out instead of asking for
// affinity.
func withTopologyBroker(topo *topology.Topology, opts Options) Options {
	if opts.BrokerStart != "" || opts.BrokerURL != "" || opts.Against != "" {
		return opts
	}
	pools, err := selectPools(topo, opts.Pools)
	if err != nil {
		return opts // reported by the caller
	}
	for _, p := range pools {
		if p.Broker != nil {
			opts.BrokerStart = string(p.Broker.Kind)
			if opts.BrokerChannel == "" {
				opts.BrokerChannel = p.Broker.Channel
			}
			return opts
		}
	}
	return opts
}

// lookup finds every binary first, so that a missing one is reported before
// any run starts: the version asked for, else the one the topology targets.
func lookup(topo *topology.Topology, opts Options) ([]proxybin.Binary, error) {
	var bins []proxybin.Binary
	for _, k := range opts.Proxies {
		want := wantVersion(opts, k)
		if d, ok := proxy.Lookup(string(k)); ok && want == (proxybin.Want{}) {
			want.AtLeast = d.Target(topo.Targets)
		}
		b, err := proxybin.Find(k, want)
		if err != nil {
			return nil, err
		}
		bins = append(bins, b)
	}
	return bins, nil
}

// wantVersion is the --proxy-version asked for kind, if any.
func wantVersion(opts Options, kind proxybin.Kind) proxybin.Want {
	v, ok := opts.ProxyVersions[kind]
	if !ok {
		v = opts.ProxyVersions[""]
	}
	return proxybin.Want{Version: v}
}

func timeoutError(ctx context.Context, opts Options, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("verify did not finish within --timeout %s: %w", opts.Timeout, err)
	}
	return err
}

func verifyTopologyOn(ctx context.Context, topo *topology.Topology, bin proxybin.Binary, opts Options) (runs []*report.Run, err error) {
	ids := backendIDs(topo)
	var order []string
	for _, p := range topo.Pools {
		for _, s := range p.Servers {
			if err := echo.ValidateID(ids[s]); err != nil {
				return nil, inputErrorf("server %q: %v", s.Name, err)
			}
			order = append(order, ids[s])
		}
	}
	e, err := newEnv(ctx, bin, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := e.close(); cerr != nil && err == nil {
			err = fmt.Errorf("teardown: %w", cerr)
		}
	}()
	if err := e.startBackends(ctx, order, topologyHealth(topo, ids), opts); err != nil {
		return nil, err
	}
	run := topo
	if !opts.ProductionTimers {
		run = withFastChecks(topo) // same servers, so ids still apply
	}
	local, err := startLocal(ctx, e, run, bin, ids)
	if err != nil {
		return nil, err
	}

	pools, err := selectPools(local, opts.Pools)
	if err != nil {
		return nil, err
	}
	localIDs := map[*topology.Server]string{}
	for i, p := range local.Pools {
		for j, s := range p.Servers {
			localIDs[s] = ids[topo.Pools[i].Servers[j]]
		}
	}
	for _, p := range pools {
		plan, err := planPool(local, p, localIDs, opts)
		if err != nil {
			return nil, err
		}
		if orig := topo.Pool(p.Name); orig != nil {
			plan.Timers = poolTimers(orig, bin.Kind)
		}
		run, obs, err := runPool(ctx, e, plan, opts)
		if err != nil {
			return nil, fmt.Errorf("%s, pool %s: %w", bin.Kind, p.Name, err)
		}
		opts.observed(run, obs)
		runs = append(runs, run)
	}
	return runs, nil
}

// DeployedProxy is the proxy name of a run against a deployed topology
// (Options.Against): its kind and version are not known here.
const DeployedProxy = "deployed"

// verifyDeployed runs the scenarios on each selected pool of topo as
// someone else deployed it, with the proxy at opts.Against: one Run per
// pool, starting nothing. The pool's servers must answer like wslb's echo
// backend (`wslb echo --id NAME`), named after the topology's servers, so
// that each echo names the server that answered.
func verifyDeployed(ctx context.Context, topo *topology.Topology, opts Options) ([]*report.Run, error) {
	pools, err := selectPools(topo, opts.Pools)
	if err != nil {
		return nil, err
	}
	ids := backendIDs(topo)
	e := &env{kind: DeployedProxy, version: opts.Against, backends: newEchoBackends(), deployed: true}
	var runs []*report.Run
	for _, p := range pools {
		plan, err := planPool(topo, p, ids, opts)
		if err != nil {
			return nil, err
		}
		plan.Listener = opts.Against
		run, obs, err := runPool(ctx, e, plan, opts)
		if err != nil {
			return nil, fmt.Errorf("%s, pool %s: %w", opts.Against, p.Name, err)
		}
		opts.observed(run, obs)
		runs = append(runs, run)
	}
	return runs, nil
}

// bindAttempts bounds how often a proxy is started on fresh ports when
// another process took a port between picking it and the proxy binding it.
const bindAttempts = 3

// startLocal generates the local copy of topo for the proxy and starts it
// in e.
func startLocal(ctx context.Context, e *env, topo *topology.Topology, bin proxybin.Binary, ids map[*topology.Server]string) (*topology.Topology, error) {
	var local *topology.Topology
	err := startProxy(ctx, e, bin, func() (string, []byte, string, error) {
		addrs, err := e.rt.ListenAddrs(len(topo.Listeners))
		if err != nil {
			return "", nil, "", err
		}
		listen := map[string]netip.AddrPort{}
		for i, l := range topo.Listeners {
			listen[l.Name] = addrs[i]
		}
		servers := map[*topology.Server]topology.Address{}
		for _, p := range topo.Pools {
			for _, s := range p.Servers {
				a, err := netip.ParseAddrPort(e.servers.Addr(ids[s]))
				if err != nil {
					return "", nil, "", fmt.Errorf("backend %s: %w", ids[s], err)
				}
				servers[s] = topology.Address{Host: a.Addr().String(), Port: int(a.Port())}
			}
		}
		local = localTopology(topo, listen, func(s *topology.Server) topology.Address { return servers[s] })
		local.Limits.MaxConns = min(local.Limits.MaxConns, localMaxConns())
		arts, err := generator.Generate(local, generator.Options{
			Kinds:          []proxybin.Kind{bin.Kind},
			Runtime:        &generator.Runtime{Dir: e.rt.Dir()},
			IdentityHeader: IdentityHeader,
		})
		if err != nil {
			return "", nil, "", fmt.Errorf("generate %s config: %w", bin.Kind, err)
		}
		return arts[0].Name, arts[0].Bytes, addrs[0].String(), nil
	})
	if err != nil {
		return nil, err
	}
	return local, nil
}

// startProxy starts the proxy on the config that render returns (its file
// name, its text and the listener to wait for) in e. When another process
// took a listener port between picking it and the proxy binding it, it
// renders again, with fresh ports, up to bindAttempts times.
func startProxy(ctx context.Context, e *env, bin proxybin.Binary, render func() (name string, text []byte, ready string, err error)) error {
	for attempt := 1; ; attempt++ {
		name, text, ready, err := render()
		if err != nil {
			return err
		}
		cfg, err := e.rt.WriteFile(name, text)
		if err != nil {
			return err
		}
		p, err := e.rt.StartProxy(ctx, driver.ProxySpec{Binary: bin, Config: cfg, ReadyAddr: ready})
		if err == nil {
			e.proxy = p
			e.watch = watchProxy(p, e.rt.Clients())
			return nil
		}
		if attempt == bindAttempts || !portTaken(err) || ctx.Err() != nil {
			return err
		}
	}
}

// portTaken reports whether a proxy failed to start because a listen port
// was in use. Drivers report that as EADDRINUSE whichever way they learn
// it (the loopback driver reads it from the proxy's own log).
func portTaken(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE)
}

// localMaxConns is the proxy connection budget that fits this process's
// descriptor limit, which the proxy inherits: a proxied connection takes
// two descriptors, and some are kept for listeners, checks and logs.
func localMaxConns() int {
	return max(fdLimit()-2000, 2000) / 2
}

// fdLimit is this process's descriptor limit (capped: only its order of
// magnitude matters here).
func fdLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<20 {
		return 1 << 20
	}
	return int(rl.Cur)
}

// startError explains why the proxy did not start on the rewritten copy
// (at scratch) of the user's config at path. When the proxy's own check
// rejects the copy, the config is invalid input: an *InputError citing
// the user's file and lines, not the copy's. Otherwise err is returned
// with the copy's lines mapped back the same way.
func startError(ctx context.Context, bin proxybin.Binary, path, scratch string, res *rewrite.Result, err error) error {
	mapBack := func(msg string) string {
		return strings.ReplaceAll(res.MapLines(msg), scratch, path)
	}
	var ce *proxybin.CheckError
	if cerr := bin.Check(ctx, scratch); errors.As(cerr, &ce) && ctx.Err() == nil {
		d, _ := proxy.Lookup(string(bin.Kind))
		var msgs []string
		for _, m := range d.CheckMessages(ce.Output) {
			if line := "  " + mapBack(m.Text); !slices.Contains(msgs, line) {
				msgs = append(msgs, line)
			}
		}
		return inputErrorf("%s refuses to load %s:\n%s", bin.Kind, path, strings.Join(msgs, "\n"))
	}
	return errors.New(mapBack(err.Error()))
}

// VerifyConfig runs an existing HAProxy or NGINX config with its servers
// replaced by local echo backends and its listeners moved to local ports,
// and judges the scenarios on the pool that serves WebSockets: one Run.
// kind, when set, must match the config's detected kind. Errors in the
// config are *InputError values pointing at file:line.
func VerifyConfig(ctx context.Context, path string, kind proxybin.Kind, opts Options) (sum *report.Summary, err error) {
	opts, err = opts.Normalize()
	if err != nil {
		return nil, err
	}
	cfg, err := rewrite.LoadWith(path, rewrite.Options{AllowCode: opts.AllowCode, Roots: opts.IncludeRoots})
	if err != nil {
		return nil, &InputError{Err: err}
	}
	if kind != "" && kind != cfg.Kind {
		return nil, inputErrorf("%s is a %s config, not %s", path, cfg.Kind, kind)
	}
	for _, id := range cfg.ServerIDs() {
		if err := echo.ValidateID(id); err != nil {
			return nil, inputErrorf("%s: %v", path, err)
		}
	}
	bin, err := proxybin.Find(cfg.Kind, wantVersion(opts, cfg.Kind))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	e, err := newEnv(ctx, bin, opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := e.close(); cerr != nil && err == nil {
			err = fmt.Errorf("teardown: %w", cerr)
		}
	}()
	if err := e.startBackends(ctx, cfg.ServerIDs(), nil, opts); err != nil {
		return nil, err
	}
	addrs := map[string]string{}
	for _, id := range cfg.ServerIDs() {
		addrs[id] = e.servers.Addr(id)
	}
	var res *rewrite.Result
	err = startProxy(ctx, e, bin, func() (string, []byte, string, error) {
		// Render picks fresh listener ports each time.
		var err error
		if res, err = cfg.Render(rewrite.Local{Dir: e.rt.Dir(), Backends: addrs, ListenAddrs: e.rt.ListenAddrs, FastChecks: !opts.ProductionTimers}); err != nil {
			return "", nil, "", &InputError{Err: err}
		}
		text := res.Config
		if d, ok := proxy.Lookup(string(bin.Kind)); ok && d.CapLimits != nil {
			text = d.CapLimits(text, localMaxConns(), fdLimit())
		}
		return res.ConfigName, text, res.Listen, nil
	})
	if err != nil {
		if res != nil && ctx.Err() == nil {
			err = startError(ctx, bin, path, filepath.Join(e.rt.Dir(), res.ConfigName), res, err)
		}
		return nil, timeoutError(ctx, opts, err)
	}

	plan := poolPlan{
		Name:     cfg.Pool,
		Listener: res.Listen,
		Path:     res.Path,
		Key:      Key{Mode: res.Affinity.Mode, Name: res.Affinity.Key},
		Strict:   res.Affinity.Consistent || res.Affinity.Mode == topology.AffinityCookie,
		Origin:   opts.Origin,
		Timers:   Timers{Kind: bin.Kind, Timers: res.Timers},
	}
	if plan.Path == "" {
		plan.Path = "/"
	}
	if plan.Origin == "" {
		// The config only lets listed Origins open sockets.
		plan.Origin = res.AllowedOrigin
	}
	if plan.Key.Mode == "" {
		plan.Key.Mode = topology.AffinityNone
	}
	if opts.Key != nil {
		plan.Key = *opts.Key
	}
	// A cookie the proxy reads but never sets comes from the application;
	// so does one the user names with --key when the proxy sets none.
	plan.SeedCookie = plan.Key.Mode == topology.AffinityCookie && (res.Affinity.ClientCookie || opts.Key != nil)
	for _, s := range res.Servers {
		plan.Servers = append(plan.Servers, BackendInfo{ID: s.ID, Weight: s.Weight, Backup: s.Backup})
	}
	if len(plan.Servers) == 0 {
		return nil, inputErrorf("%s: no server serves WebSockets", path)
	}
	run, obs, err := runPool(ctx, e, plan, opts)
	if err != nil {
		return nil, timeoutError(ctx, opts, err)
	}
	opts.observed(run, obs)
	return summarize(path, []*report.Run{run}), nil
}
