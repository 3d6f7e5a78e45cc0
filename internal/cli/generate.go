package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/atomicfile"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/verify"
)

// GenerateOptions are the flags and arguments of wslb generate.
type GenerateOptions struct {
	Streams IOStreams

	Topology string
	// Output is a directory, or "-" for standard output.
	Output string
	// Proxy is the one proxy to generate for, or "" for every one.
	Proxy string
	// Check compares instead of writing.
	Check bool
	// LoadJob also writes the Kubernetes Job that drives the deployed
	// topology from a cluster, with these settings.
	LoadJob bool
	Load    istio.LoadJobOptions
}

// NewCmdGenerate compiles a topology into HAProxy and NGINX configs.
func NewCmdGenerate(streams IOStreams) *cobra.Command {
	opts := &GenerateOptions{Streams: streams}
	var proxyFlag *proxyFlag
	cmd := &cobra.Command{
		Use:   "generate TOPOLOGY.hcl",
		Short: "Generate HAProxy and NGINX configs from a topology",
		Long: `Compile a topology (HCL, see docs/topology.md) into haproxy.cfg and
nginx.conf, tuned for WebSockets: upgrade handling, affinity, idle and
tunnel timeouts, graceful reloads, health checks and Origin checks.
--proxy istio writes istio.yaml instead: Kubernetes resources for an
Istio mesh; --proxy gateway-api writes gateway-api.yaml: the Kubernetes
Gateway API's Gateway and HTTPRoutes, with Istio's resources for what it
lacks (see docs/istio.md). --proxy compose writes a Docker Compose project
into -o DIR: the proxy (HAProxy, or NGINX with --profile nginx) in front of
one wslb echo backend per server, and a README.md on running it
(docs/compose.md).

The files are written atomically: a topology with errors, or a failure
while writing, leaves the existing files untouched. Problems in the
topology are all reported at once, with file:line:col and a snippet.

With --check nothing is written: the configs on disk are compared with what
the topology generates, and any difference is printed as a unified diff
that patch -p0 applies (drift detection in CI). Only regular files inside
the output directory are read; a symbolic link leading elsewhere, a FIFO
or a device is drift, and is not read.

Exit status: 0 ok (or up to date), 1 --check found drift, 2 usage error,
3 invalid or unreadable topology, 5 the configs could not be written
(nothing was replaced).`,
		Example: `  # Write out/haproxy.cfg and out/nginx.conf
  wslb generate examples/chat.hcl -o out/

  # Only the NGINX config, to standard output
  wslb generate examples/chat.hcl --proxy nginx

  # Both configs to standard output, each after a "# ---- NAME" line
  wslb generate examples/chat.hcl -o -

  # A Docker Compose project that runs the topology (see its README.md)
  wslb generate examples/chat.hcl --proxy compose -o chat-compose/

  # In CI: fail when the committed configs are not what the topology gives
  wslb generate deploy/topology.hcl -o deploy/ --check`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return []string{"hcl"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Topology = args[0]
			if _, err := proxyFlag.resolve(cmd, opts.Streams); err != nil {
				return err
			}
			if opts.Output == "" {
				return UsageError("--output must be a directory or - for standard output")
			}
			if opts.Check && opts.Output == "-" {
				return UsageError("--check compares with files on disk: give the directory with -o DIR")
			}
			if fi, err := os.Stat(opts.Output); err == nil && !fi.IsDir() {
				return UsageError("-o %s is a file: -o takes a directory (both configs are written into it) or - for standard output", opts.Output)
			}
			if err := opts.checkLoadJob(cmd); err != nil {
				return err
			}
			if err := checkReadable(opts.Topology); err != nil {
				return err
			}
			return runGenerate(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Output, "output", "o", "-", "directory to write the configs to, or - for standard output")
	f.BoolVar(&opts.Check, "check", false, "write nothing; exit 1 with a diff when the files in -o DIR differ")
	f.BoolVar(&opts.LoadJob, "load-job", false, "with --proxy istio, also write "+istio.LoadJobFile+", a Kubernetes Job that runs wslb verify in --shards pods against the deployed topology, and "+istio.LoadScriptFile+", which merges their results (docs/sharding.md)")
	f.IntVar(&opts.Load.Shards, "shards", istio.DefaultLoadShards, "with --load-job: pods, one shard of the clients each")
	f.IntVar(&opts.Load.Clients, "load-clients", 0, fmt.Sprintf("with --load-job: clients of all shards together (default %d per shard)", istio.DefaultLoadClientsPerShard))
	f.StringVar(&opts.Load.Image, "load-image", istio.DefaultLoadImage, "with --load-job: the container image whose entrypoint is wslb")
	f.StringVar(&opts.Load.Against, "load-against", "", "with --load-job: HOST:PORT the pods connect to (default: the ingress gateway's Service, "+istio.GatewayService+", on the WebSocket route's port)")
	proxyFlag = addTargetFlag(cmd, &opts.Proxy, "generate only this proxy's config: %s (default: every proxy wslb also runs; config-only targets only when named)", "target")
	_ = cmd.MarkFlagDirname("output")
	return cmd
}

func runGenerate(ctx context.Context, opts *GenerateOptions) error {
	var topo *topology.Topology
	err := runStoppable(ctx, "generate", 0, func(ctx context.Context) (err error) {
		topo, err = loadTopology(ctx, opts.Topology, opts.Streams)
		return err
	})
	if err != nil {
		return fmt.Errorf("%w; nothing was written", err)
	}
	var kinds []proxybin.Kind
	if opts.Proxy != "" {
		kinds = []proxybin.Kind{proxybin.Kind(opts.Proxy)}
	}
	arts, err := generator.Generate(topo, generator.Options{Kinds: kinds, FDLimit: hostFDLimit()})
	if err != nil {
		return InvalidInputError(fmt.Errorf("%s: %w; nothing was written", opts.Topology, err))
	}
	if opts.LoadJob {
		job, err := loadJobArtifacts(opts, topo)
		if err != nil {
			return err
		}
		arts = append(arts, job...)
	}
	switch {
	case opts.Output == "-":
		return printArtifacts(opts, arts)
	case opts.Check:
		return checkArtifacts(opts, arts)
	default:
		return writeArtifacts(opts, arts)
	}
}

// checkLoadJob checks the --load-job flags (exit 2).
func (o *GenerateOptions) checkLoadJob(cmd *cobra.Command) error {
	if !o.LoadJob {
		for _, name := range []string{"shards", "load-clients", "load-image", "load-against"} {
			if cmd.Flags().Changed(name) {
				return UsageError("--%s is a setting of --load-job", name)
			}
		}
		return nil
	}
	if o.Proxy != string(istio.Kind) {
		return UsageError("--load-job drives a topology deployed in Kubernetes: use it with --proxy %s", istio.Kind)
	}
	if o.Load.Shards < 1 || o.Load.Shards > verify.MaxShards {
		return UsageError("--shards must be between 1 and %d, not %d", verify.MaxShards, o.Load.Shards)
	}
	if c := o.Load.Clients; c != 0 {
		if _, err := (verify.Options{Clients: c, Reconnects: 1, Shard: verify.Shard{Count: o.Load.Shards}}).Normalize(); err != nil {
			return UsageError("--load-clients: %v", err)
		}
	}
	if a := o.Load.Against; a != "" {
		if _, err := (verify.Options{Against: a}).Normalize(); err != nil && strings.Contains(err.Error(), "against") {
			return UsageError("--load-against %s: want the deployed proxy's HOST:PORT", a)
		}
	}
	if strings.ContainsAny(o.Load.Image, " \t\n\"'") || o.Load.Image == "" {
		return UsageError("--load-image %q: want an image reference", o.Load.Image)
	}
	return nil
}

// loadJobArtifacts are the load Job and its merge script (exit 3 when the
// topology cannot be loaded from pods).
func loadJobArtifacts(opts *GenerateOptions, topo *topology.Topology) ([]generator.Artifact, error) {
	f, err := safefile.OpenRegular(opts.Topology)
	if err != nil {
		return nil, InvalidInputError(readError(opts.Topology, err))
	}
	defer f.Close()
	// The pods hash these bytes: the merge refuses shards of another file.
	text, err := io.ReadAll(f)
	if err != nil {
		return nil, InvalidInputError(readError(opts.Topology, err))
	}
	lo := opts.Load
	lo.TopologyText = text
	job, err := istio.LoadJob(topo, lo)
	if err != nil {
		return nil, InvalidInputError(fmt.Errorf("%s: load job: %w; nothing was written", opts.Topology, err))
	}
	return []generator.Artifact{
		{Name: istio.LoadJobFile, Bytes: job},
		{Name: istio.LoadScriptFile, Bytes: istio.LoadJobScript(topo, lo.Shards)},
	}, nil
}

func printArtifacts(opts *GenerateOptions, arts []generator.Artifact) error {
	for _, a := range arts {
		if len(arts) > 1 {
			fmt.Fprintf(opts.Streams.Out, "# ---- %s\n", a.Name)
		}
		if _, err := opts.Streams.Out.Write(a.Bytes); err != nil {
			return fmt.Errorf("write %s: %w", a.Name, err)
		}
	}
	return nil
}

// checkArtifacts compares the generated configs with the files in the
// output directory and prints a unified diff for each that differs.
func checkArtifacts(opts *GenerateOptions, arts []generator.Artifact) error {
	// The files compared may come from an unreviewed change: read only
	// regular files below the output directory, so that a symbolic link
	// to a secret cannot print it in the diff.
	reader := safefile.NewReader([]string{opts.Output}, safefile.DefaultLimits)
	drift := 0
	for _, a := range arts {
		path := filepath.Join(opts.Output, a.Name)
		if !reader.Within(path) {
			drift++
			fmt.Fprintf(opts.Streams.ErrOut, "%s: not compared: it leads outside %s; generate -o replaces it with a regular file\n", path, opts.Output)
			continue
		}
		have, err := reader.Read(path)
		var refused *safefile.RefusedError
		switch {
		case errors.As(err, &refused):
			drift++
			fmt.Fprintf(opts.Streams.ErrOut, "%s: not compared: %s; generate -o replaces it with a regular file\n", path, refused.Reason)
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return InvalidInputError(readError(path, err))
		}
		if err == nil && bytes.Equal(have, a.Bytes) {
			continue
		}
		drift++
		// Paths as given with -o, so that patch -p0 run where wslb ran
		// applies the diff.
		diff := unifiedDiff(have, a.Bytes, err != nil, path, path)
		fmt.Fprint(opts.Streams.Out, diff)
	}
	if drift > 0 {
		fmt.Fprintf(opts.Streams.ErrOut, "%d of %d configs in %s differ from %s; run wslb generate %s -o %s to update them\n",
			drift, len(arts), opts.Output, opts.Topology, opts.Topology, opts.Output)
		return FailedError(fmt.Errorf("configs in %s are out of date", opts.Output))
	}
	for _, a := range arts {
		fmt.Fprintf(opts.Streams.Out, "%s: up to date\n", filepath.Join(opts.Output, a.Name))
	}
	return nil
}

// writeArtifacts writes every config or none (atomicfile): readers never
// see a partial file, and a failure leaves the old files. Exit 5 when
// they cannot be written.
func writeArtifacts(opts *GenerateOptions, arts []generator.Artifact) error {
	if err := os.MkdirAll(opts.Output, 0o755); err != nil {
		return WriteFailedError(fmt.Errorf("create output directory: %w; nothing was written", err))
	}
	files := make([]atomicfile.File, len(arts))
	for i, a := range arts {
		files[i] = atomicfile.File{Path: filepath.Join(opts.Output, a.Name), Data: a.Bytes, Perm: 0o644}
	}
	if err := atomicfile.WriteFiles(files); err != nil {
		return WriteFailedError(fmt.Errorf("%w; nothing was written, the files in %s are as they were", err, opts.Output))
	}
	for _, f := range files {
		fmt.Fprintf(opts.Streams.Out, "wrote %s\n", f.Path)
	}
	return nil
}
