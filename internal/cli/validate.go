package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/ctxrun"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/internal/sandbox"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate"
	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/output"
	"github.com/wslb/wslb/validate/rules"
)

// ValidateOptions are the flags and arguments of wslb validate.
type ValidateOptions struct {
	Streams IOStreams

	Paths        []string
	Proxy        string
	Format       string
	FailOn       string
	Disable      []string
	Exec         bool
	AllowCode    bool
	IncludeRoots []string
	// TargetVersions are the --NAME-version values, by proxy: the
	// versions the version rules judge against.
	TargetVersions map[proxybin.Kind]*string
	// ProxyVersions are the --proxy-version values: the binaries --exec
	// runs.
	ProxyVersions  []string
	MinIdleTimeout time.Duration
	WebSocket      string
	ListRules      bool
	// Timeout bounds the whole run; 0 means none.
	Timeout     time.Duration
	Unsandboxed bool
}

var failOnValues = []string{"error", "warning", "info", "none"}

// NewCmdValidate lints HAProxy and NGINX configs for WebSocket mistakes.
func NewCmdValidate(streams IOStreams) *cobra.Command {
	opts := &ValidateOptions{Streams: streams}
	var proxyFlag *proxyFlag
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Lint HAProxy and NGINX configs and Istio YAML for WebSocket and affinity mistakes",
		Long: `Lint HAProxy and NGINX configs for the mistakes that break WebSockets and
session affinity: missing Upgrade headers, HTTP/1.0 upstreams, idle timeouts,
affinity gaps, reload hygiene. Each finding names a rule (WSLBNNN) documented
in docs/rules/.

PATH is a config file, a directory (searched for *.cfg and *.conf), "-" for
standard input (with --proxy), or a topology .hcl file, which is generated and
the result linted. The proxy is detected from the content; the file name and
extension decide when the content does not. Istio and Kubernetes Gateway API
YAML (VirtualService, DestinationRule, HTTPRoute, ...; multi-document and
Helm-rendered files) is linted too (rules WSLB300-WSLB309, docs/istio.md).

A WebSocket route is a location/backend that forwards Upgrade/Connection, is
selected by an Upgrade, WebSocket-path or WebSocket-host ACL, sets timeout
tunnel, or has a well-known WebSocket path (/ws, /socket.io/, /cable, /hub,
...) or host (ws.example.com); findings say which sign they saw and on which
line. --websocket all treats every route as one.

Silence a finding with a comment on its line, on a comment-only line above
it, or on the opening line of its block: # wslb:ignore WSLB104
(# wslb:ignore-file WSLB104 for a whole file). See docs/validate.md.

Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage error,
3 unreadable input or a config the binary rejects (--exec), 4 a needed
binary is missing or no sandbox can be built for it (--exec; see
--unsandboxed), 124 --timeout reached, 130/143 stopped by
SIGINT/SIGTERM (nothing is printed then, and the check is stopped).`,
		Example: `  # Lint a config, failing CI on errors only
  wslb validate /etc/haproxy/haproxy.cfg

  # Lint a whole directory, fail on warnings too, and annotate a GitHub PR
  wslb validate deploy/ --fail-on warning --format github

  # SARIF for GitHub code scanning, checking with the real binaries as well
  wslb validate nginx.conf --exec --format sarif > wslb.sarif

  # From standard input, targeting nginx 1.24, with a 5 minute idle threshold
  cat site.conf | wslb validate - --proxy nginx --nginx-version 1.24 --min-idle-timeout 5m

  # Generate configs from a topology and lint them
  wslb validate examples/chat.hcl`,
		Args: cobra.MinimumNArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if opts.ListRules {
				return listRules(opts.Streams.Out)
			}
			if len(args) == 0 {
				return UsageError("validate needs at least one PATH (a file, a directory, - or a topology .hcl)")
			}
			if _, err := proxyFlag.resolve(cmd, opts.Streams); err != nil {
				return err
			}
			if err := checkValidateFlags(opts); err != nil {
				return err
			}
			for _, p := range args {
				if p == "-" {
					continue
				}
				if err := checkReadable(p); err != nil {
					return err
				}
			}
			return runValidate(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "f", "text", "output format: "+strings.Join(output.Formats, ", "))
	f.StringVar(&opts.FailOn, "fail-on", "error", "exit 1 on findings at or above: error, warning, info or none")
	f.StringSliceVar(&opts.Disable, "disable", nil, "rule IDs to skip, comma separated (e.g. WSLB104,WSLB107)")
	f.BoolVar(&opts.Exec, "exec", false, "also run each proxy binary's own config check (haproxy -c, nginx -t) on a copy with unresolvable host names stubbed (WSLB002)")
	f.StringSliceVar(&opts.IncludeRoots, "include-root", nil, "directory configs and their includes may also be read from (default: the directories of the PATHs)")
	f.BoolVar(&opts.AllowCode, "allow-code", false, "let --exec run configs with directives that run code (lua-load, program, load_module, js_*, ...)")
	opts.TargetVersions = map[proxybin.Kind]*string{}
	for _, d := range versioned() {
		opts.TargetVersions[d.Name] = f.String(versionFlag(d), "", fmt.Sprintf("target %s version (default: the installed %s, else %s)", d.Name, d.Name, d.MinVersion.Short()))
	}
	f.StringSliceVar(&opts.ProxyVersions, "proxy-version", nil, "with --exec, "+proxyVersionUsage)
	f.DurationVar(&opts.MinIdleTimeout, "min-idle-timeout", rules.DefaultMinIdleTimeout, "shortest idle time a WebSocket must survive")
	f.StringVar(&opts.WebSocket, "websocket", "auto", "which routes carry WebSockets: auto (detect) or all")
	f.BoolVar(&opts.ListRules, "list-rules", false, "print the rule catalog and exit")
	f.DurationVar(&opts.Timeout, "timeout", 0, "stop and exit 124 when the whole run takes longer (e.g. 2m; default: no limit)")
	f.BoolVar(&opts.Unsandboxed, "unsandboxed", false, "with --exec, run the proxy's check without isolation where no sandbox can be built (see docs/security.md)")
	proxyFlag = addReadFlag(cmd, &opts.Proxy, "proxy of the inputs: %s (default: detect)", "kind")
	_ = cmd.RegisterFlagCompletionFunc("format", enumFlagCompletion(output.Formats...))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", enumFlagCompletion(failOnValues...))
	_ = cmd.RegisterFlagCompletionFunc("websocket", enumFlagCompletion("auto", "all"))
	_ = cmd.RegisterFlagCompletionFunc("proxy-version", proxyVersionCompletion)
	return cmd
}

func checkValidateFlags(opts *ValidateOptions) error {
	if _, err := output.New(opts.Format, output.Options{}); err != nil {
		return UsageError("--format: %v", err)
	}
	if !slices.Contains(failOnValues, opts.FailOn) {
		return UsageError("--fail-on %q: want error, warning, info or none", opts.FailOn)
	}
	if opts.WebSocket != "auto" && opts.WebSocket != "all" {
		return UsageError("--websocket %q: want auto or all", opts.WebSocket)
	}
	if opts.Timeout < 0 {
		return UsageError("--timeout must not be negative")
	}
	if opts.MinIdleTimeout <= 0 {
		return UsageError("--min-idle-timeout must be positive")
	}
	for _, d := range versioned() {
		if v := opts.targetVersion(d.Name); v != "" {
			if _, err := topology.ParseVersion(v); err != nil {
				return UsageError("--%s: %v", versionFlag(d), err)
			}
		}
	}
	if _, err := parseProxyVersions(opts.ProxyVersions); err != nil {
		return err
	}
	for _, id := range opts.Disable {
		id = strings.ToUpper(strings.TrimSpace(id))
		if id != "" && rules.ByID(id) == nil {
			return UsageError("--disable %s: no such rule (see wslb validate --list-rules)", id)
		}
	}
	for _, p := range opts.Paths {
		if p == "-" && opts.Proxy == "" {
			return UsageError("reading standard input needs %s", proxyAlternatives())
		}
	}
	return nil
}

func runValidate(ctx context.Context, opts *ValidateOptions) error {
	sandbox.AllowUnsandboxed(opts.Unsandboxed)
	var res validate.Result
	if err := runStoppable(ctx, "validate", opts.Timeout, func(ctx context.Context) (err error) {
		res, err = lintPaths(ctx, opts)
		return err
	}); err != nil {
		return err
	}
	return printValidate(opts, res)
}

// readRoots are the directories validate reads configs and includes
// from: each PATH given (a file stands for its directory) and every
// --include-root.
func readRoots(opts *ValidateOptions) []string {
	var roots []string
	for _, p := range opts.Paths {
		if p == "-" || strings.EqualFold(filepath.Ext(p), ".hcl") {
			continue
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			roots = append(roots, p)
		} else {
			roots = append(roots, filepath.Dir(p))
		}
	}
	if len(roots) == 0 {
		roots = append(roots, ".") // standard input's includes: the working directory
	}
	return append(roots, opts.IncludeRoots...)
}

// lintPaths reads, generates and lints opts.Paths. Reading and generating
// take no context, so they run beside a watch on ctx (ctxrun).
func lintPaths(ctx context.Context, opts *ValidateOptions) (validate.Result, error) {
	lintOpts := validate.Options{
		Options: rules.Options{
			MinIdleTimeout: opts.MinIdleTimeout,
			WebSocketAll:   opts.WebSocket == "all",
		},
		Disable:   opts.Disable,
		Exec:      opts.Exec,
		AllowCode: opts.AllowCode,
		Roots:     readRoots(opts),
	}
	for _, d := range versioned() {
		if s := opts.targetVersion(d.Name); s != "" {
			v, _ := topology.ParseVersion(s)
			lintOpts.SetVersion(d.Name, v)
		}
	}

	versions, err := parseProxyVersions(opts.ProxyVersions)
	if err != nil {
		return validate.Result{}, err
	}
	// --exec runs the version asked for, else the one a topology targets,
	// else the installed one.
	var targets *topology.Targets
	lintOpts.Binaries = versionFinder(versions, func(k proxybin.Kind) topology.Version {
		if d, ok := proxy.Lookup(string(k)); ok && targets != nil {
			return d.Target(*targets)
		}
		return topology.Version{}
	})

	var sources []validate.Source
	var notes []string
	if cerr := ctxrun.Run(ctx, func() { sources, notes, err = collectSources(ctx, opts, &lintOpts, &targets) }); cerr != nil {
		return validate.Result{}, cerr
	}
	if err != nil {
		return validate.Result{}, err
	}
	res, err := validate.Lint(ctx, sources, lintOpts)
	if err != nil {
		return res, lintError(err)
	}
	res.Notes = append(notes, res.Notes...)
	return res, nil
}

// collectSources turns opts.Paths into sources, generating the configs of
// topologies (whose targets it sets); it sets lintOpts' target versions when
// a topology or the binaries --exec would run tell them.
func collectSources(ctx context.Context, opts *ValidateOptions, lintOpts *validate.Options, topoTargets **topology.Targets) ([]validate.Source, []string, error) {
	var sources []validate.Source
	var notes []string
	for _, p := range opts.Paths {
		switch {
		case p == "-":
			// Standard input gets the same size limit as a file.
			limit := safefile.DefaultLimits.MaxFile
			b, err := safefile.ReadAtMost(opts.Streams.In, limit)
			if errors.Is(err, safefile.ErrTooLarge) {
				return nil, nil, InvalidInputError(fmt.Errorf("standard input is larger than %d bytes", limit))
			}
			if err != nil {
				return nil, nil, InvalidInputError(fmt.Errorf("read standard input: %w", err))
			}
			sources = append(sources, validate.Source{Name: "<stdin>", Kind: proxybin.Kind(opts.Proxy), Bytes: b})
		case strings.EqualFold(filepath.Ext(p), ".hcl"):
			gen, targets, err := generateForLint(ctx, opts, p)
			if err != nil {
				return nil, nil, err
			}
			for _, d := range versioned() {
				if v := d.Target(targets); opts.targetVersion(d.Name) == "" && v != (topology.Version{}) {
					lintOpts.SetVersion(d.Name, v)
				}
			}
			*topoTargets = &targets
			sources = append(sources, gen...)
			notes = append(notes, fmt.Sprintf("linted the configs generated from %s", p))
		default:
			found, err := validate.Collect([]string{p})
			if err != nil {
				return nil, nil, InvalidInputError(err)
			}
			for i := range found {
				found[i].Kind = proxybin.Kind(opts.Proxy)
			}
			sources = append(sources, found...)
		}
	}
	// The binary --exec would run (the installed one, or the
	// --proxy-version) is the best guess at the target; without one, the
	// oldest supported version is assumed.
	for _, d := range versioned() {
		if _, known := lintOpts.Version(d.Name); known || !mayBe(sources, d.Name) {
			continue
		}
		if b, err := lintOpts.Binaries(d.Name); err == nil {
			lintOpts.SetVersion(d.Name, b.Version)
		}
	}
	return sources, notes, nil
}

// printValidate prints res and maps it to the exit status: 3 when the
// real binary refused a config (WSLB002), else 1 at or above --fail-on.
func printValidate(opts *ValidateOptions, res validate.Result) error {
	printer, err := output.New(opts.Format, output.Options{Color: opts.Streams.ColorOut(), ToolVersion: versionString()})
	if err != nil {
		return UsageError("--format: %v", err)
	}
	if err := printer.Print(opts.Streams.Out, res); err != nil {
		return err
	}
	if opts.Format != "text" {
		for _, n := range res.Notes {
			fmt.Fprintf(opts.Streams.ErrOut, "note: %s\n", n)
		}
	}
	if rejected := rejectedFiles(res); len(rejected) > 0 {
		return &ExitError{Code: ExitInvalidInput, Err: fmt.Errorf("the proxy binary refuses to load %s (%s above)", strings.Join(rejected, ", "), rules.ExecCheckID)}
	}
	if failed(res, opts.FailOn) {
		return FailedError(fmt.Errorf("validate: findings at or above %s", opts.FailOn))
	}
	return nil
}

// rejectedFiles lists the files with a WSLB002 finding: configs the real
// binary refused to load.
func rejectedFiles(res validate.Result) []string {
	var out []string
	for _, f := range res.Findings {
		if f.Rule == rules.ExecCheckID && !slices.Contains(out, f.File) {
			out = append(out, f.File)
		}
	}
	return out
}

// generateForLint loads a topology and generates its configs in memory.
func generateForLint(ctx context.Context, opts *ValidateOptions, path string) ([]validate.Source, topology.Targets, error) {
	topo, err := loadTopology(ctx, path, opts.Streams)
	if err != nil {
		return nil, topology.Targets{}, err
	}
	var kinds []proxybin.Kind
	if opts.Proxy != "" {
		kinds = []proxybin.Kind{proxybin.Kind(opts.Proxy)}
	}
	arts, err := generator.Generate(topo, generator.Options{Kinds: kinds, FDLimit: hostFDLimit()})
	if err != nil {
		return nil, topology.Targets{}, InvalidInputError(fmt.Errorf("generate %s: %w", path, err))
	}
	// Findings name the generated file under the topology's path
	// ("chat.hcl/nginx.conf"): unambiguous across topologies and clearly
	// not a file on disk.
	var out []validate.Source
	for _, a := range arts {
		out = append(out, validate.Source{Name: path + "/" + a.Name, Kind: a.Kind, Bytes: a.Bytes})
	}
	return out, topo.Targets, nil
}

// mayBe reports whether any source is (or may be detected as) of kind.
// versioned are the proxies whose versions validate tells apart: each has
// a --NAME-version flag.
func versioned() []*proxy.Descriptor {
	return slices.DeleteFunc(proxy.All(), func(d *proxy.Descriptor) bool { return d.MinVersion == (topology.Version{}) })
}

// versionFlag names d's target version flag: --haproxy-version.
func versionFlag(d *proxy.Descriptor) string { return string(d.Name) + "-version" }

// targetVersion is the --NAME-version given for kind, "" if none.
func (opts *ValidateOptions) targetVersion(kind proxybin.Kind) string {
	if p := opts.TargetVersions[kind]; p != nil {
		return *p
	}
	return ""
}

func mayBe(sources []validate.Source, kind proxybin.Kind) bool {
	for _, s := range sources {
		if s.Kind == "" || s.Kind == kind {
			return true
		}
	}
	return false
}

func failed(res validate.Result, failOn string) bool {
	if failOn == "none" {
		return false
	}
	threshold, err := finding.ParseSeverity(failOn)
	if err != nil {
		return false
	}
	return res.Max() >= threshold
}

func listRules(w io.Writer) error {
	var b strings.Builder
	for _, r := range validate.Rules() {
		fmt.Fprintf(&b, "%s  %-7s  %-40s  %s\n", r.ID, r.Severity, r.Slug, r.Title)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
