package verify

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/backendcmd"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

// Key is what clients are told apart by: the affinity mode and, for cookie,
// header and query affinity, the name of the cookie, header or parameter.
type Key struct {
	Mode topology.AffinityMode
	Name string
}

// String is the --key syntax: "source", "cookie:SERVERID", ...
func (k Key) String() string {
	if k.Name == "" {
		return string(k.Mode)
	}
	return string(k.Mode) + ":" + k.Name
}

// ParseKey reads the --key syntax: source | none | cookie:NAME |
// header:NAME | query:NAME.
func ParseKey(s string) (Key, error) {
	mode, name, hasName := strings.Cut(s, ":")
	k := Key{Mode: topology.AffinityMode(mode), Name: name}
	switch k.Mode {
	case topology.AffinitySource, topology.AffinityNone:
		if hasName {
			return Key{}, fmt.Errorf("key %q: %s takes no name", s, mode)
		}
		return k, nil
	case topology.AffinityCookie:
		if err := topology.CheckCookieName(name); err != nil || !hasName {
			return Key{}, fmt.Errorf("key %q: want cookie:NAME with a valid cookie name", s)
		}
	case topology.AffinityHeader:
		if err := topology.CheckHeaderName(name); err != nil || !hasName {
			return Key{}, fmt.Errorf("key %q: want header:NAME with a valid header name", s)
		}
	case topology.AffinityQuery:
		if err := topology.CheckQueryParam(name); err != nil || !hasName {
			return Key{}, fmt.Errorf("key %q: want query:NAME with a valid parameter name", s)
		}
	default:
		return Key{}, fmt.Errorf("key %q: want source, none, cookie:NAME, header:NAME or query:NAME", s)
	}
	return k, nil
}

// needs are what the run asks of its driver.
func (o Options) needs() driver.Needs {
	return driver.Needs{
		ForeignServers: o.BackendCmd != "",
		Broker:         o.BrokerStart != "",
		BrokerKind:     o.BrokerStart,
		ExternalBroker: o.BrokerURL != "",
		Faults:         o.Faults,
	}
}

// ChooseDriver resolves Driver for the run o asks for (driver.Choose).
func (o Options) ChooseDriver() (driver.Choice, error) {
	return driver.Choose(o.Driver, o.needs())
}

// Options shape one verification.
type Options struct {
	// Driver names the driver that runs the backends, the proxy and the
	// clients' hosts (driver.Lookup); empty means driver.Default.
	Driver string
	// Faults are injected one after the other by the fault scenario
	// (--fault): the driver must support each (see driver.Fault).
	Faults []driver.Fault
	// Proxies to run, one Run each, in order. Ignored for an existing
	// config, whose kind is detected.
	Proxies []proxybin.Kind
	// ProxyVersions picks the version of each proxy to run
	// (--proxy-version): "3.0" or "3.0.11"; the "" key applies to every
	// kind. Without one, a topology's target version picks the binary
	// (the default one when it is recent enough, else the oldest
	// available that is), and an existing config runs on the default one.
	ProxyVersions map[proxybin.Kind]string
	// ProxyImages names the image each proxy runs from with a driver
	// that runs containers (driver.Options.ProxyImages).
	ProxyImages map[proxybin.Kind]string
	// BackendImage is the image BackendCmd runs in with a driver that
	// runs containers (driver.Options.BackendImage).
	BackendImage string
	// Clients, Reconnects (connections per client after the first) and
	// Messages (per connection) size the load of each phase.
	Clients    int
	Reconnects int
	Messages   int
	// Scenarios to run, a subset of stickiness, spread, failover, reload
	// and idle; empty means DefaultScenarios (plus idle when Idle > 0).
	Scenarios []string
	// Idle is how long the idle scenario holds connections without traffic.
	Idle time.Duration
	// MinStickiness is the fraction (0..1] of clients that must stay on one
	// backend for stickiness to pass.
	MinStickiness float64
	// Pools limits the run to these pools (backends/upstreams); empty means
	// every WebSocket pool.
	Pools []string
	// Key overrides the detected affinity key; nil keeps it.
	Key *Key
	// Origin, when set, is sent as the Origin header of every handshake,
	// for configs that only accept listed Origins. A topology's first
	// allowed Origin is sent without it.
	Origin string
	// Timeout bounds the whole verification.
	Timeout time.Duration
	// AllowRemote permits a listen address that is not loopback. Without
	// it everything runs on 127.0.0.0/8.
	AllowRemote bool
	// ProductionTimers runs health checks at the intervals the topology or
	// config gives; by default the local copy checks every
	// FastCheckInterval so that a failover takes a fraction of a second,
	// and the report computes what the production timers would take.
	ProductionTimers bool
	// AllowCode lets an existing config run code (lua-load, program,
	// external checks, load_module, js_*, ...); without it such a config
	// is refused as invalid input.
	AllowCode bool
	// BackendCmd, when set, runs the user's own server instead of the echo
	// backend, once per server: a shell command line with {port} (where
	// it must listen, on 127.0.0.1) and {id} (the server's name). It runs
	// in the sandbox; see internal/backendcmd.
	BackendCmd string
	// Client is the protocol of the clients: harness.ClientWebSocket (the
	// default; the backend must echo like wslb's) or harness.ClientSocketIO
	// (Socket.IO sessions, for a Socket.IO server run by BackendCmd).
	Client string
	// Redis starts a redis-server on a free loopback port for the
	// backends, whose command gets its URL in REDIS_URL.
	Redis bool
	// Publish is how many messages each client publishes in a fan-out
	// scenario, and RoomSize how many clients share a room.
	Publish  int
	RoomSize int
	// BrokerStart starts a broker of this kind (redis, nats, rabbitmq, kafka) for
	// the run, which every node joins; BrokerURL names a running one
	// instead (on loopback unless AllowRemote). BrokerChannel is where the
	// nodes' messages go (default "wslb"); NodeTemplate in it is replaced
	// by each node's id, which puts every node on its own channel.
	BrokerStart   string
	BrokerURL     string
	BrokerChannel string
	// IncludeRoots are directories an existing config's includes and the
	// files it names may be read from besides the config's own directory.
	IncludeRoots []string
	// Progress, when set, is told what the run is doing.
	Progress func(Progress)
	// Shard runs one slice of the clients (Clients is then the count of
	// all shards together); the zero value runs them all.
	Shard Shard
	// Against, when set, is the HOST:PORT of an already deployed proxy
	// that serves the topology: nothing is started, clients connect
	// there, and the scenarios that need control of the backends or the
	// proxy (failover, reload) are skipped.
	Against string
	// Observe, when set, is given every finished Run with what it
	// observed, from which Judge computed its scenarios (a sharded run
	// writes them to its results file).
	Observe func(*report.Run, *Observations)

	// afterRun, in tests, is called after each run with its pool while
	// the proxy still runs, to measure through the same proxy.
	afterRun func(poolPlan)
}

// Progress is a step of a run, for a progress display.
type Progress struct {
	Proxy string
	Pool  string
	Phase string // "start", "stickiness", "failover", ...
	Done  int    // phases finished in this run
	Total int    // phases in this run
}

// Defaults for Options fields left zero.
const (
	DefaultClients       = 200
	DefaultReconnects    = 3
	DefaultMessages      = 2
	DefaultMinStickiness = 1.0
	DefaultPublish       = 4
	DefaultRoomSize      = 10
	DefaultTimeout       = 2 * time.Minute
	// MaxClients bounds one phase: every client holds at most one
	// connection, and the proxy two descriptors per connection.
	MaxClients = 9000
)

var allScenarios = []string{ScenarioStickiness, ScenarioSpread, ScenarioFailover, ScenarioReload, ScenarioIdle, ScenarioBroadcast,
	ScenarioFanout, ScenarioFanoutNodeStop, ScenarioFanoutBrokerRestart, ScenarioFault}

// AllScenarios lists every scenario name.
func AllScenarios() []string { return append([]string(nil), allScenarios...) }

// Normalize fills zero fields with the defaults and checks the rest; the
// error lists every problem.
func (o Options) Normalize() (Options, error) {
	if o.Clients == 0 {
		o.Clients = DefaultClients
	}
	if o.Messages == 0 {
		o.Messages = DefaultMessages
	}
	if o.MinStickiness == 0 {
		o.MinStickiness = DefaultMinStickiness
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if len(o.Proxies) == 0 {
		o.Proxies = proxy.Runnable()
	}
	if o.Client == "" {
		o.Client = harness.ClientWebSocket
	}
	if o.Publish == 0 {
		o.Publish = DefaultPublish
	}
	if o.RoomSize == 0 {
		o.RoomSize = DefaultRoomSize
	}
	if len(o.Scenarios) == 0 && (o.BrokerStart != "" || o.BrokerURL != "") {
		// Nodes that share a broker need no affinity: prove delivery.
		o.Scenarios = append([]string(nil), FanoutScenarios...)
	}
	if len(o.Scenarios) == 0 && o.Client == harness.ClientSocketIO {
		o.Scenarios = append([]string(nil), SocketIOScenarios...)
	}
	if len(o.Scenarios) == 0 {
		o.Scenarios = append([]string(nil), DefaultScenarios...)
		if o.Idle > 0 {
			o.Scenarios = append(o.Scenarios, ScenarioIdle)
		}
	}
	if len(o.Faults) > 0 && !slices.Contains(o.Scenarios, ScenarioFault) {
		o.Scenarios = append(slices.Clone(o.Scenarios), ScenarioFault)
	}
	var errs []error
	if slices.Contains(o.Scenarios, ScenarioFault) && len(o.Faults) == 0 {
		errs = append(errs, fmt.Errorf("the fault scenario needs faults to inject (--fault, e.g. --fault pause:ws2)"))
	}
	if o.Driver == "" {
		o.Driver = driver.Default
	}
	if _, err := driver.Pick(o.Driver, o.needs()); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, o.checkShard()...)
	if o.Reconnects < 0 || o.Reconnects > 1000 {
		errs = append(errs, fmt.Errorf("reconnects must be between 0 and 1000, not %d", o.Reconnects))
	}
	if o.Messages < 1 || o.Messages > 10000 {
		errs = append(errs, fmt.Errorf("messages must be between 1 and 10000, not %d", o.Messages))
	}
	if o.MinStickiness < 0 || o.MinStickiness > 1 {
		errs = append(errs, fmt.Errorf("min-stickiness must be between 0 and 1, not %g", o.MinStickiness))
	}
	if o.Idle < 0 {
		errs = append(errs, fmt.Errorf("idle must not be negative"))
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout must not be negative"))
	}
	seen := map[string]bool{}
	for _, s := range o.Scenarios {
		if !slices.Contains(allScenarios, s) {
			errs = append(errs, fmt.Errorf("unknown scenario %q (want %s)", s, strings.Join(allScenarios, ", ")))
		}
		if s == ScenarioIdle && o.Idle <= 0 {
			errs = append(errs, errors.New("the idle scenario needs --idle DURATION"))
		}
		if seen[s] {
			errs = append(errs, fmt.Errorf("scenario %q named twice", s))
		}
		seen[s] = true
	}
	errs = append(errs, o.checkBackends(seen)...)
	errs = append(errs, o.checkFanout(seen)...)
	if o.Idle > 0 && !seen[ScenarioIdle] {
		o.Scenarios = append(o.Scenarios, ScenarioIdle)
	}
	if o.Origin != "" {
		if err := topology.CheckOrigin(o.Origin); err != nil {
			errs = append(errs, fmt.Errorf("origin: %w", err))
		}
	}
	if o.Idle > o.Timeout {
		errs = append(errs, fmt.Errorf("idle %s does not fit in the timeout %s", o.Idle, o.Timeout))
	}
	if o.Reconnects == 0 && seen[ScenarioStickiness] {
		// One connection per client cannot show stickiness.
		errs = append(errs, errors.New("stickiness needs at least one reconnect"))
	}
	return o, errors.Join(errs...)
}

// checkShard checks the clients, the shard and the deployed proxy.
func (o Options) checkShard() []error {
	var errs []error
	if o.Shard != (Shard{}) {
		if err := o.Shard.check(); err != nil {
			return []error{err}
		}
	}
	if !o.Shard.Sharded() {
		if o.Clients < 1 || o.Clients > MaxClients {
			errs = append(errs, fmt.Errorf("clients must be between 1 and %d, not %d", MaxClients, o.Clients))
		}
	} else {
		_, n := o.Shard.Range(o.Clients)
		switch {
		case o.Clients < o.Shard.Count || o.Clients > MaxShardedClients:
			errs = append(errs, fmt.Errorf("clients must be between %d (one per shard) and %d with %d shards, not %d", o.Shard.Count, MaxShardedClients, o.Shard.Count, o.Clients))
		case n > MaxClients:
			errs = append(errs, fmt.Errorf("%d clients over %d shards give shard %s %d clients, more than one machine holds (%d): use more shards", o.Clients, o.Shard.Count, o.Shard, n, MaxClients))
		}
		if o.Client == harness.ClientSocketIO {
			errs = append(errs, errors.New("--shard does not run with --client socketio yet: a broadcast must reach every client at once"))
		}
		for _, s := range []string{ScenarioFanout, ScenarioFanoutNodeStop, ScenarioFanoutBrokerRestart} {
			if o.wants(s) {
				errs = append(errs, fmt.Errorf("--shard does not run the %s scenario: every client of a room must run in one verify", s))
			}
		}
	}
	if o.Against != "" {
		host, port, err := net.SplitHostPort(o.Against)
		if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || host == "" || strings.ContainsAny(host, "/@?# ") {
			errs = append(errs, fmt.Errorf("against %q: want the deployed proxy's HOST:PORT", o.Against))
		}
		if o.BackendCmd != "" || o.Redis {
			errs = append(errs, errors.New("--against drives a deployed topology: --backend-cmd and --redis start servers locally"))
		}
	}
	return errs
}

// checkBackends checks the backend command, the client protocol and the
// scenarios they allow.
func (o Options) checkBackends(seen map[string]bool) []error {
	var errs []error
	if o.BackendCmd != "" {
		if err := backendcmd.Check(o.BackendCmd); err != nil {
			errs = append(errs, fmt.Errorf("backend-cmd: %w", err))
		}
	}
	switch o.Client {
	case harness.ClientWebSocket:
		if seen[ScenarioBroadcast] {
			errs = append(errs, errors.New("the broadcast scenario needs --client socketio"))
		}
	case harness.ClientSocketIO:
		if o.BackendCmd == "" {
			errs = append(errs, errors.New("--client socketio needs --backend-cmd: the echo backend does not speak Socket.IO"))
		}
		for _, s := range []string{ScenarioFailover, ScenarioReload, ScenarioIdle} {
			if seen[s] {
				errs = append(errs, fmt.Errorf("the %s scenario does not run with --client socketio yet (want %s)", s, strings.Join(SocketIOScenarios, ", ")))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("unknown client %q (want %s or %s)", o.Client, harness.ClientWebSocket, harness.ClientSocketIO))
	}
	if o.Redis && o.BackendCmd == "" {
		errs = append(errs, errors.New("--redis is for the servers of --backend-cmd"))
	}
	return errs
}

// observed hands a finished run to Observe, if set.
func (o Options) observed(run *report.Run, obs *Observations) {
	if o.Observe != nil {
		o.Observe(run, obs)
	}
}

// wants reports whether the scenario is selected.
func (o Options) wants(name string) bool { return slices.Contains(o.Scenarios, name) }

// checkFanout checks the fan-out load and the broker options.
func (o Options) checkFanout(seen map[string]bool) []error {
	var errs []error
	if o.Publish < 1 || o.Publish > 1000 {
		errs = append(errs, fmt.Errorf("publish must be between 1 and 1000, not %d", o.Publish))
	}
	if o.RoomSize < 1 || o.RoomSize > MaxClients {
		errs = append(errs, fmt.Errorf("room-size must be between 1 and %d, not %d", MaxClients, o.RoomSize))
	}
	if o.BrokerStart != "" && o.BrokerURL != "" {
		errs = append(errs, errors.New("--broker-start starts a broker and --broker names a running one: give one of them"))
	}
	if o.BrokerStart != "" {
		kind, err := broker.ParseKind(o.BrokerStart)
		if err != nil {
			errs = append(errs, fmt.Errorf("broker-start: %w", err))
		} else if o.BrokerChannel != "" {
			if err := checkChannel(broker.Config{Kind: kind, Channel: o.BrokerChannel}); err != nil {
				errs = append(errs, fmt.Errorf("broker-channel: %w", err))
			}
		}
	}
	if o.BrokerURL != "" {
		if _, err := BrokerKindOf(o.BrokerURL); err != nil {
			errs = append(errs, err)
		} else if !o.AllowRemote {
			if err := checkLoopback(o.BrokerURL); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if o.BrokerChannel != "" && o.BrokerStart == "" && o.BrokerURL == "" {
		errs = append(errs, errors.New("--broker-channel needs a broker: --broker-start KIND or --broker URL"))
	}
	for _, s := range []string{ScenarioFanout, ScenarioFanoutNodeStop, ScenarioFanoutBrokerRestart} {
		if seen[s] && o.Client == harness.ClientSocketIO {
			errs = append(errs, fmt.Errorf("the %s scenario speaks wslb's fan-out messages over WebSocket, not Socket.IO (drop --client socketio)", s))
		}
	}
	return errs
}
