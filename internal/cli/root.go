// Package cli holds wslb's cobra commands. Commands parse flags, call the
// stages (topology, generator, validate, verify) and write to the injected
// streams; only this package decides exit codes.
package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wslb/wslb/internal/iostreams"
)

// IOStreams are the streams a command uses, with their terminal, colour
// and width detection; tests inject buffers and overrides.
type IOStreams = iostreams.IOStreams

// SystemStreams returns the process's standard streams.
func SystemStreams() IOStreams {
	return iostreams.System()
}

// NewRootCmd builds the wslb command tree.
func NewRootCmd(streams IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "wslb",
		Short: "Generate, lint and verify HAProxy and NGINX configs for WebSocket apps",
		Long: `wslb compiles a short HCL topology into tuned HAProxy and NGINX configs,
lints configs for WebSocket and affinity mistakes, and verifies stickiness,
spread, failover and reload survival against the real proxy binaries.`,
		Example: `  wslb generate examples/chat.hcl -o out/
  wslb validate out/haproxy.cfg out/nginx.conf
  wslb verify examples/chat.hcl --proxy all`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	// Flag errors are usage errors (exit 2).
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: err}
	})

	root.AddCommand(
		NewCmdGenerate(streams),
		NewCmdValidate(streams),
		NewCmdVerify(streams),
		NewCmdReport(streams),
		NewCmdEcho(streams),
		NewCmdVersion(streams),
		NewCmdCompletion(streams),
	)
	return root
}

// Main runs wslb with the process's arguments and returns the exit status.
func Main() int {
	runInNamespace = true
	return Run(context.Background(), os.Args[1:], SystemStreams())
}

// Run executes the command tree with args; SIGINT and SIGTERM cancel ctx
// (with a *SignalError cause) so long-running commands tear down what they
// started.
func Run(ctx context.Context, args []string, streams IOStreams) int {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			cancel(&SignalError{Signal: s})
		case <-ctx.Done():
		}
	}()

	root := NewRootCmd(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitCode(err)
	// cobra reports unknown commands and bad arguments as plain errors.
	if code == ExitFailed && isCobraUsageError(err) {
		code = ExitUsage
	}
	if !isSilent(err) {
		fmt.Fprintf(streams.ErrOut, "Error: %v\n", err)
		if code == ExitUsage {
			fmt.Fprintln(streams.ErrOut, "Run 'wslb --help' for usage.")
		}
	}
	return code
}

func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, prefix := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}
