package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/verify"
)

// MergeOptions are the flags of `wslb report merge`.
type MergeOptions struct {
	IO         IOStreams
	Paths      []string
	Format     string
	ReportFile string
}

// NewCmdReport groups the commands that work on verify's results.
func NewCmdReport(streams IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work on the results of wslb verify (merge the results of sharded runs)",
		Example: `  # four shards of one run, then one report
  for i in 0 1 2 3; do wslb verify chat.hcl --shard $i/4 --results shard-$i.json & done; wait
  wslb report merge shard-*.json`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdReportMerge(streams))
	return cmd
}

// NewCmdReportMerge judges the results files of the shards of one run
// together.
func NewCmdReportMerge(streams IOStreams) *cobra.Command {
	opts := &MergeOptions{IO: streams}
	cmd := &cobra.Command{
		Use:   "merge SHARD.json...",
		Short: "Judge the results of the shards of one verify run as one run",
		Long: `Read the results files that 'wslb verify --shard i/N --results FILE' wrote,
one per shard, and judge them as one run: every client's observations are
put together in the unsharded run's order and judged by the same code verify
uses, so the verdicts are those of all the clients together (stickiness over
every client, spread over every client's first connection). The report comes
out as verify's does.

A file may also be a log that holds the results between the
-----BEGIN WSLB RESULTS----- and -----END WSLB RESULTS----- lines that
'--results -' prints (kubectl logs of a shard's pod).

Files that are not the N shards of one run are refused (exit 3): another
topology or config (its SHA-256 differs), other settings (clients,
scenarios, ...), another N, a shard missing or given twice, or a results
format of another wslb version.

Exit status: 0 every scenario passed, 1 a scenario failed, 2 bad flags,
3 unreadable or mismatched results, 5 the --report file could not be written.`,
		Example: `  wslb report merge shard-0.json shard-1.json shard-2.json shard-3.json
  wslb report merge shard-*.log --format json --report merged.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			switch opts.Format {
			case "text", "json":
			default:
				return UsageError("--format must be text or json, not %q", opts.Format)
			}
			return runMerge(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Format, "format", "text", "output format: text or json")
	f.StringVar(&opts.ReportFile, "report", "", "also write a self-contained HTML report to this file")
	_ = cmd.RegisterFlagCompletionFunc("format", enumFlagCompletion("text", "json"))
	return cmd
}

func runMerge(o *MergeOptions) error {
	var shards []*verify.Results
	for _, path := range o.Paths {
		r, err := readResults(path)
		if err != nil {
			return err
		}
		shards = append(shards, r)
	}
	summary, err := verify.Merge(shards)
	if err != nil {
		return InvalidInputError(fmt.Errorf("cannot merge: %w", err))
	}
	if err := writeSummary(o.IO, o.Format, o.ReportFile, summary); err != nil {
		return err
	}
	if !summary.Passed {
		return FailedError(errors.New("verification failed"))
	}
	return nil
}

// readResults reads one results file (exit 3 when it cannot).
func readResults(path string) (*verify.Results, error) {
	f, err := safefile.OpenRegular(path)
	if err != nil {
		return nil, InvalidInputError(readError(path, err))
	}
	defer f.Close()
	r, err := verify.ReadResults(f)
	if err != nil {
		return nil, InvalidInputError(fmt.Errorf("%s: %w", path, err))
	}
	return r, nil
}
