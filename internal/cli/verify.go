package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/wslb/wslb/driver"
	_ "github.com/wslb/wslb/driver/all" // every driver --driver can name
	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/atomicfile"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/internal/sandbox"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/verify"
)

// VerifyOptions are the flags of `wslb verify`.
type VerifyOptions struct {
	IO   IOStreams
	Path string

	// Verify holds the flags that map one to one onto the library's
	// options; Proxy and Key are parsed into it by verifyOptions.
	Verify verify.Options
	Proxy  string
	Key    string
	// ProxyVersions are the --proxy-version values, ProxyImages the
	// --proxy-image ones.
	ProxyVersions []string
	ProxyImages   []string
	Format        string
	ReportFile    string
	// Unsandboxed lets an existing config run where no sandbox can be
	// built; Cleanup only removes what killed runs left.
	Unsandboxed bool
	Cleanup     bool
	// Shard is --shard i/N; Results the file (- for standard output,
	// between markers) the raw results go to.
	Shard   string
	Results string
	// Faults are the --fault specs.
	Faults []string
}

// runInNamespace makes verify run itself again in a network namespace of
// its own (sandbox.RunInNamespace). Main sets it: only the wslb binary can
// be started again that way, not a test calling Run.
var runInNamespace = false

// NewCmdVerify runs a topology or an existing config for real and checks
// stickiness, spread, failover and reload survival.
func NewCmdVerify(streams IOStreams) *cobra.Command {
	opts := &VerifyOptions{IO: streams}
	var proxyFlag *proxyFlag
	cmd := &cobra.Command{
		Use:   "verify TOPOLOGY.hcl | haproxy.cfg | nginx.conf",
		Short: "Prove stickiness, spread, failover and reload survival against the real proxy",
		Long: `Start the topology for real — the haproxy or nginx binary with the generated
config (or your existing one), one local echo backend per server and many
WebSocket clients with distinct identities — and check, with numbers:

  stickiness  every client's connections land on one backend
  spread      every healthy backend gets clients (counts, max/min, chi-square p)
  failover    a stopped backend's clients move to survivors and stick there,
              other clients stay; what moves back when it returns is reported
  reload      a graceful reload drops no open connection; new ones work
  idle        (with --idle) connections held idle are not closed
  broadcast   (with --client socketio) a message emitted on one server
              reaches the clients of every server exactly once
  fanout      (with --broker-start KIND) clients publish into rooms shared
              across servers; every message reaches every client of its
              room exactly once, in order; then a server is stopped
              (fanout-node-stop) and the broker restarted
              (fanout-broker-restart)

Nothing leaves the machine: listen and server addresses are rewritten to ones
the driver hands out (--driver: as root, auto gives every node a network
namespace of its own on a private bridge; elsewhere all runs on loopback),
and every process and namespace is torn down on exit, failure or Ctrl-C.
--fault (e.g. pause:ws2, loss:ws1:5%) adds the fault scenario: which clients
a fault on one backend moved, and how long until they were served again.
For an existing config the affinity key is detected (source address, cookie,
header or query parameter); --key overrides it.

Exit status: 0 all scenarios passed, 1 a scenario failed, 2 bad flags,
3 invalid topology or config, 4 haproxy/nginx not installed or, for an
existing config, no sandbox can be built (see --unsandboxed), 124 --timeout
reached, 130/143 stopped by SIGINT/SIGTERM (everything it started is stopped).`,
		Example: `  # both proxies, every default scenario
  wslb verify examples/chat.hcl --proxy all

  # an existing config, cookie affinity named explicitly, JSON for CI
  wslb verify /etc/haproxy/haproxy.cfg --key cookie:SERVERID --format json

  # your own Socket.IO servers, sharing broadcasts through Redis
  wslb verify examples/socketio.hcl --pool socketio --client socketio --redis \
    --backend-cmd 'node examples/socketio/server.js {port} {id}'

  # the same with every node a container: the servers in a Node.js image
  wslb verify examples/socketio.hcl --pool socketio --client socketio --redis \
    --driver docker --backend-image wslb-runtime:bookworm \
    --backend-cmd 'node examples/socketio/server.js {port} {id}'

  # a quick run plus an idle check and an HTML report
  wslb verify examples/cookie.hcl --proxy nginx --clients 50 --idle 90s --report verify.html`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Cleanup {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Cleanup {
				return runCleanup(cmd.Context(), opts)
			}
			opts.Path = args[0]
			if !cmd.Flags().Changed("timeout") {
				// The default bound leaves room for the idle hold.
				opts.Verify.Timeout = verify.DefaultTimeout + opts.Verify.Idle
			}
			if _, err := proxyFlag.resolve(cmd, opts.IO); err != nil {
				return UsageError("--proxy must be %s, not %q", proxyFlag.choices(), opts.Proxy)
			}
			if !cmd.Flags().Changed("scenarios") {
				// The library picks: the defaults, Socket.IO's, or those
				// of servers sharing a broker (a topology's broker block
				// included).
				opts.Verify.Scenarios = nil
			}
			if err := opts.check(); err != nil {
				return err
			}
			if err := checkReadable(opts.Path); err != nil {
				return err
			}
			return runVerify(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	opts.Proxy = "all"
	proxyFlag = addProxyFlag(cmd, &opts.Proxy, "proxy to run: %s (an existing config runs its own kind)", []string{"all"})
	f.StringSliceVar(&opts.ProxyVersions, "proxy-version", nil, proxyVersionUsage)
	f.StringSliceVar(&opts.ProxyImages, "proxy-image", nil, proxyImageUsage)
	f.StringVar(&opts.Verify.Driver, "driver", driver.Default, "what runs the backends, the proxy and the clients' hosts: "+strings.Join(driver.Names(), ", ")+" ("+driver.Auto+": "+driver.AutoSummary()+")")
	f.IntVar(&opts.Verify.Clients, "clients", verify.DefaultClients, "clients per phase, each with its own identity")
	f.IntVar(&opts.Verify.Reconnects, "reconnects", verify.DefaultReconnects, "connections per client after the first")
	f.IntVar(&opts.Verify.Messages, "messages", verify.DefaultMessages, "echo messages per connection (with --client socketio: events emitted per session)")
	f.StringSliceVar(&opts.Verify.Scenarios, "scenarios", verify.DefaultScenarios, "scenarios to run: "+strings.Join(verify.AllScenarios(), ","))
	f.DurationVar(&opts.Verify.Idle, "idle", 0, "also hold connections idle this long and report any the proxy closes")
	f.Float64Var(&opts.Verify.MinStickiness, "min-stickiness", verify.DefaultMinStickiness, "fraction of clients (0..1) that must stay on one backend")
	f.StringSliceVar(&opts.Verify.Pools, "pool", nil, "pool (backend/upstream) to exercise; default every WebSocket pool")
	f.StringVar(&opts.Key, "key", "", "affinity key clients differ by: source, none, cookie:NAME, header:NAME or query:NAME (default: detected)")
	f.StringVar(&opts.Verify.Origin, "origin", "", "Origin header for the handshakes, for configs that only accept listed Origins (default: a topology's first allowed origin)")
	f.StringVar(&opts.Format, "format", "text", "output format: text or json")
	f.StringVar(&opts.ReportFile, "report", "", "also write a self-contained HTML report to this file")
	f.DurationVar(&opts.Verify.Timeout, "timeout", verify.DefaultTimeout, "bound for the whole verification (plus --idle when not given)")
	f.BoolVar(&opts.Verify.AllowRemote, "allow-remote", false, "permit client traffic to non-loopback addresses")
	f.BoolVar(&opts.Verify.ProductionTimers, "production-timers", false, "run health checks at the configured intervals (default: every "+verify.FastCheckInterval.String()+", with the production timing computed in the report)")
	f.BoolVar(&opts.Verify.AllowCode, "allow-code", false, "let an existing config run code (lua-load, program, external checks, load_module, js_*, ...)")
	f.StringSliceVar(&opts.Verify.IncludeRoots, "include-root", nil, "directory an existing config's includes and files may also come from, besides the config's directory")
	f.StringVar(&opts.Verify.BackendCmd, "backend-cmd", "", "run your own server instead of the echo backend, once per server: a shell command with {port}, {host} (it listens on {host}:{port}) and {id}; it runs your code, in the sandbox (see docs/security.md)")
	f.StringVar(&opts.Verify.BackendImage, "backend-image", "", "with --driver docker: the image --backend-cmd runs in (default wslb-runtime:bookworm, Node.js; make docker builds it), the working directory mounted read-only")
	f.StringVar(&opts.Verify.Client, "client", harness.ClientWebSocket, "client protocol: websocket (echo messages) or socketio (Socket.IO sessions: long-polling handshake, then the upgrade; needs --backend-cmd)")
	f.BoolVar(&opts.Verify.Redis, "redis", false, "start a redis-server for the --backend-cmd servers (on loopback, a host of its own with --driver netns, a container of the run with --driver docker), its URL in their REDIS_URL")
	f.StringVar(&opts.Verify.BrokerStart, "broker-start", "", "start a message broker of this kind ("+brokerKinds()+") for the run; every server joins it, and the fan-out scenarios run by default")
	f.StringVar(&opts.Verify.BrokerChannel, "broker-channel", "", "where the servers' messages go on the broker (default wslb); {id} is each server's name, e.g. wslb-{id} puts each on its own channel")
	f.IntVar(&opts.Verify.Publish, "publish", verify.DefaultPublish, "messages each client publishes in the fan-out scenarios")
	f.IntVar(&opts.Verify.RoomSize, "room-size", verify.DefaultRoomSize, "clients per room in the fan-out scenarios")
	f.BoolVar(&opts.Unsandboxed, "unsandboxed", false, "run an existing config even where no sandbox can be built (see docs/security.md)")
	f.StringVar(&opts.Shard, "shard", "", "run one slice of the clients, INDEX/COUNT (0/4 … 3/4), with the identities the whole run gives them; needs --results (see docs/sharding.md)")
	f.StringVar(&opts.Results, "results", "", "write the raw results (every client's observations, for wslb report merge) to this file, or - for standard output between marker lines")
	f.StringVar(&opts.Verify.Against, "against", "", "HOST:PORT of an already deployed proxy serving the topology, whose servers run wslb echo: start nothing, skip failover and reload")
	f.BoolVar(&opts.Cleanup, "cleanup", false, "only remove what runs that were killed left (scratch dirs wslb-verify-*, wslb-exec-*; network namespaces wslb-PID-* and the processes in them; the docker driver's containers and networks), and exit")
	f.StringArrayVar(&opts.Faults, "fault", nil, "inject a fault on one backend in the fault scenario, KIND:SERVER[:VALUE] (loss:ws2:5%, rate:ws1:1mbit, down:ws3, pause:ws2, partition:ws1, delay:ws2:50ms); repeat for several, one after the other (needs --driver netns or docker)")

	_ = cmd.RegisterFlagCompletionFunc("driver", driverCompletion)
	_ = cmd.RegisterFlagCompletionFunc("fault", faultCompletion)
	_ = cmd.RegisterFlagCompletionFunc("format", enumFlagCompletion("text", "json"))
	_ = cmd.RegisterFlagCompletionFunc("proxy-version", proxyVersionCompletion)
	_ = cmd.RegisterFlagCompletionFunc("scenarios", enumFlagCompletion(verify.AllScenarios()...))
	_ = cmd.RegisterFlagCompletionFunc("client", enumFlagCompletion(harness.ClientWebSocket, harness.ClientSocketIO))
	_ = cmd.RegisterFlagCompletionFunc("broker-start", enumFlagCompletion(brokerKindNames()...))
	_ = cmd.RegisterFlagCompletionFunc("key", enumFlagCompletion("source", "none", "cookie:", "header:", "query:"))
	return cmd
}

// check validates flag values (exit 2 on error).
func (o *VerifyOptions) check() error {
	if _, ok := proxy.Lookup(o.Proxy); !ok && o.Proxy != "all" {
		return UsageError("--proxy must be %s or all, not %q", proxy.Choices(), o.Proxy)
	}
	switch o.Format {
	case "text", "json":
	default:
		return UsageError("--format must be text or json, not %q", o.Format)
	}
	versions, err := parseProxyVersions(o.ProxyVersions)
	if err != nil {
		return err
	}
	// A bare version names one proxy: which one is ambiguous when a
	// topology runs on both.
	if _, bare := versions[""]; bare && o.Proxy == "all" && isTopologyFile(o.Path) {
		return UsageError("--proxy-version %s: name the proxy (haproxy=VERSION or nginx=VERSION), or pick one with --proxy", versions[""])
	}
	if _, err := parseProxyImages(o.ProxyImages); err != nil {
		return err
	}
	if o.Verify.BackendImage != "" && o.Verify.BackendCmd == "" {
		return UsageError("--backend-image %s: it is the image --backend-cmd runs in; give --backend-cmd too", o.Verify.BackendImage)
	}
	if o.Verify.BackendImage != "" && o.Verify.Driver != "docker" {
		return UsageError("--backend-image %s: only --driver docker runs --backend-cmd from an image; the other drivers run it on this host", o.Verify.BackendImage)
	}
	if o.Key != "" {
		if _, err := verify.ParseKey(o.Key); err != nil {
			return UsageError("--key: %v", err)
		}
	}
	for _, spec := range o.Faults {
		if _, err := driver.ParseFault(spec); err != nil {
			return UsageError("--fault: %v", err)
		}
	}
	if o.Shard != "" {
		if _, err := verify.ParseShard(o.Shard); err != nil {
			return UsageError("--shard: %v", err)
		}
		if o.Results == "" {
			return UsageError("--shard %s needs --results FILE: a shard's verdicts cover its slice only, wslb report merge judges the shards together", o.Shard)
		}
	}
	if o.Verify.Against != "" && !isTopologyFile(o.Path) {
		return UsageError("--against needs the topology (.hcl) the deployed proxy serves, not %s", o.Path)
	}
	if o.Results != "" && o.Results != "-" {
		if fi, err := os.Stat(filepath.Dir(o.Results)); err != nil || !fi.IsDir() {
			return UsageError("--results %s: the directory %s does not exist", o.Results, filepath.Dir(o.Results))
		}
	}
	// Zero means "default" to the library; on the command line it is a
	// mistake.
	if o.Verify.Clients < 1 {
		return UsageError("clients must be between 1 and %d, not %d", verify.MaxClients, o.Verify.Clients)
	}
	if o.Verify.Messages < 1 {
		return UsageError("messages must be at least 1: the echo names the backend")
	}
	if o.Verify.Publish < 1 || o.Verify.RoomSize < 1 {
		return UsageError("publish must be between 1 and 1000 and room-size at least 1, not %d and %d", o.Verify.Publish, o.Verify.RoomSize)
	}
	vo := o.verifyOptions()
	if isTopologyFile(o.Path) && vo.BrokerStart == "" && vo.BrokerURL == "" {
		// A pool's broker block may be the broker --broker-channel rewires:
		// the channel is checked against it once the topology is loaded.
		vo.BrokerChannel = ""
	}
	if _, err := vo.Normalize(); err != nil {
		return UsageError("%v", err)
	}
	// Fail before the run, not after it, when the report cannot be written.
	if o.ReportFile != "" {
		if fi, err := os.Stat(filepath.Dir(o.ReportFile)); err != nil || !fi.IsDir() {
			return UsageError("--report %s: the directory %s does not exist", o.ReportFile, filepath.Dir(o.ReportFile))
		}
	}
	return nil
}

func (o *VerifyOptions) verifyOptions() verify.Options {
	vo := o.Verify
	vo.ProxyVersions, _ = parseProxyVersions(o.ProxyVersions)
	vo.ProxyImages, _ = parseProxyImages(o.ProxyImages)
	if o.Key != "" {
		if k, err := verify.ParseKey(o.Key); err == nil {
			vo.Key = &k
		}
	}
	for _, spec := range o.Faults {
		if f, err := driver.ParseFault(spec); err == nil {
			vo.Faults = append(vo.Faults, f)
		}
	}
	if o.Shard != "" {
		vo.Shard, _ = verify.ParseShard(o.Shard)
	}
	if d, ok := proxy.Lookup(o.Proxy); ok {
		vo.Proxies = []proxybin.Kind{d.Name}
	} else {
		vo.Proxies = proxy.Runnable()
	}
	return vo
}

func runVerify(ctx context.Context, o *VerifyOptions) error {
	// A generated config is wslb's own; an existing one is untrusted, and
	// so is the code a backend command runs.
	topo := isTopologyFile(o.Path)
	trusted := topo && o.Verify.BackendCmd == ""
	sandbox.AllowUnsandboxed(o.Unsandboxed || trusted)
	// Against a deployed proxy nothing runs here but clients, which must
	// reach it; a driver whose nodes have networks of their own is
	// reached from the host's network: a namespace holding only lo would
	// cut either off.
	d, err := driver.Lookup(o.Verify.Driver)
	if err != nil {
		return UsageError("--driver: %v", err)
	}
	if c, err := o.verifyOptions().ChooseDriver(); err == nil {
		d = c.Driver // auto's pick; a driver that cannot run fails the run below
	}
	if runInNamespace && !sandbox.IsolatedNetwork() && o.Verify.Against == "" && !d.OwnNetwork {
		code, err := sandbox.RunInNamespace(ctx)
		switch {
		case err == nil && code == ExitOK:
			return nil
		case err == nil:
			return &ExitError{Code: code, Silent: true}
		case !errors.Is(err, sandbox.ErrUnavailable):
			return err
		case !trusted && !o.Unsandboxed && o.Verify.BackendCmd != "":
			return MissingEnvironmentError(fmt.Errorf("refusing to run --backend-cmd, your own code, without isolation: %w", err))
		case !trusted && !o.Unsandboxed:
			return MissingEnvironmentError(fmt.Errorf("refusing to verify %s, a config that may be untrusted, without isolation: %w", o.Path, err))
		}
		fmt.Fprintf(o.IO.ErrOut, "warning: verify runs without a network namespace of its own: %v\n", err)
	}

	// The whole run, loading included, is bounded here, so that a timeout
	// exits 124 like validate's; the library's own bound (the same
	// duration, started later) never fires first.
	vo := o.verifyOptions()
	timeout := vo.Timeout
	if timeout == 0 {
		timeout = verify.DefaultTimeout
	}
	if bar := newVerifyProgress(o.IO); bar != nil {
		vo.Progress = bar.update
		defer bar.finish()
	}
	var results *verify.Results
	if o.Results != "" {
		var err error
		if results, err = newResults(o.Path, vo); err != nil {
			return err
		}
		vo.Observe = results.Add
	}
	var summary *report.Summary
	if err := runStoppable(ctx, "verify", timeout, func(ctx context.Context) (err error) {
		if topo {
			t, lerr := loadTopology(ctx, o.Path, o.IO)
			if lerr != nil {
				return lerr
			}
			summary, err = verify.VerifyTopology(ctx, t, vo)
			return verifyError(err)
		}
		var kind proxybin.Kind
		if o.Proxy != "all" {
			kind = proxybin.Kind(o.Proxy)
		}
		summary, err = verify.VerifyConfig(ctx, o.Path, kind, vo)
		return verifyError(err)
	}); err != nil {
		return err
	}

	if err := writeSummary(o.IO, o.Format, o.ReportFile, summary); err != nil {
		return err
	}
	if results != nil {
		if err := writeResults(o, results); err != nil {
			return err
		}
	}
	if vo.Shard.Sharded() {
		// A shard's verdicts cover its slice of the clients: the merge
		// decides. Its exit status says the results are written (a
		// Kubernetes Job would retry a pod that exits 1).
		fmt.Fprintf(o.IO.ErrOut, "shard %s: results written; judge all %d shards together with wslb report merge\n", vo.Shard, vo.Shard.Count)
		return nil
	}
	if !summary.Passed {
		return FailedError(errors.New("verification failed"))
	}
	return nil
}

// newResults starts the results file of a run of vo on path, which it
// hashes so that merge can tell shards of another input apart.
func newResults(path string, vo verify.Options) (*verify.Results, error) {
	f, err := safefile.OpenRegular(path)
	if err != nil {
		return nil, InvalidInputError(readError(path, err))
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, InvalidInputError(readError(path, err))
	}
	norm, err := vo.Normalize()
	if err != nil {
		return nil, UsageError("%v", err)
	}
	return verify.NewResults(path, hex.EncodeToString(h.Sum(nil)), norm), nil
}

// writeResults writes the results file atomically (exit 5 when it cannot),
// or to standard output between marker lines.
func writeResults(o *VerifyOptions, r *verify.Results) error {
	var buf bytes.Buffer
	if o.Results == "-" {
		buf.WriteString(verify.ResultsBegin + "\n")
	}
	if err := verify.WriteResults(&buf, r); err != nil {
		return err
	}
	if o.Results == "-" {
		buf.WriteString(verify.ResultsEnd + "\n")
		_, err := o.IO.Out.Write(buf.Bytes())
		return err
	}
	if err := atomicfile.WriteFile(o.Results, buf.Bytes(), 0o644); err != nil {
		return WriteFailedError(fmt.Errorf("results: %w", err))
	}
	return nil
}

// driverCompletion completes --driver with auto and every registered
// driver, each with its summary.
func driverCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	out := []string{driver.Auto + "\t" + driver.AutoSummary()}
	for _, d := range driver.All() {
		out = append(out, d.Name+"\t"+d.Summary)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// faultCompletion completes --fault with each fault kind.
func faultCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	var out []string
	for _, k := range driver.FaultKinds {
		out = append(out, string(k)+":")
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// runCleanup removes what killed runs of every driver left (the loopback
// driver: scratch dirs).
func runCleanup(ctx context.Context, o *VerifyOptions) error {
	var errs []error
	for _, d := range driver.All() {
		if d.Cleanup == nil {
			continue
		}
		removed, err := d.Cleanup(ctx)
		for _, what := range removed {
			fmt.Fprintf(o.IO.Out, "removed %s\n", what)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup %s: %w", d.Name, err))
		}
	}
	return errors.Join(errs...)
}

// writeHTMLReport writes the page atomically (exit 5 when it cannot).
// writeSummary writes a verify report: the HTML page when reportFile is
// set, and the summary to the output as text or JSON.
func writeSummary(ios IOStreams, format, reportFile string, s *report.Summary) error {
	if reportFile != "" {
		if err := writeHTMLReport(reportFile, s); err != nil {
			return err
		}
	}
	if format == "json" {
		return report.WriteJSON(ios.Out, s)
	}
	return report.WriteText(ios.Out, s, report.TextOptions{Color: ios.ColorOut(), Width: ios.Width()})
}

func writeHTMLReport(path string, s *report.Summary) error {
	var page bytes.Buffer
	if err := report.WriteHTML(&page, s); err != nil {
		return fmt.Errorf("render report %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, page.Bytes(), 0o644); err != nil {
		return WriteFailedError(fmt.Errorf("report: %w", err))
	}
	return nil
}

func isTopologyFile(path string) bool {
	return strings.EqualFold(filepath.Ext(path), ".hcl")
}

// verifyProgress shows the phases of the runs on a terminal's stderr.
type verifyProgress struct {
	bar   *progressbar.ProgressBar
	total int
}

// newVerifyProgress returns nil unless ErrOut is a terminal.
func newVerifyProgress(streams IOStreams) *verifyProgress {
	if !streams.ErrIsTerminal() {
		return nil
	}
	return &verifyProgress{bar: progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(streams.ErrOut),
		progressbar.OptionSetDescription("starting"),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetElapsedTime(true),
	)}
}

func (p *verifyProgress) update(ev verify.Progress) {
	if ev.Total > 0 && ev.Total != p.total {
		p.total = ev.Total
		p.bar.ChangeMax(ev.Total)
	}
	desc := ev.Proxy
	if ev.Pool != "" {
		desc += " " + ev.Pool
	}
	p.bar.Describe(fmt.Sprintf("%-20s %s", desc, ev.Phase))
	_ = p.bar.Set(ev.Done)
}

func (p *verifyProgress) finish() {
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}
