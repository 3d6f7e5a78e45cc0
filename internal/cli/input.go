package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/hashicorp/hcl/v2"

	"github.com/wslb/wslb/topology"
)

// readError says that an input file cannot be read, the same way in every
// command: "cannot read PATH: REASON".
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot read %s: %w", path, err)
}

// checkReadable reports a missing or unreadable input path (exit 3) before
// a command starts: every command says it the same way. The open does not
// block on a FIFO; what a path may be (a directory, a regular file) is for
// the command to judge.
func checkReadable(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return InvalidInputError(readError(path, err))
	}
	f.Close()
	return nil
}

// loadTopology loads the topology at path and prints its diagnostics on
// streams.ErrOut, the same way for every command. When ctx ends while loading it
// returns ctx's cause, for runStoppable to report; a topology with errors
// is exit 3, "PATH: N errors" after the diagnostics.
func loadTopology(ctx context.Context, path string, streams IOStreams) (*topology.Topology, error) {
	loader := topology.NewLoader()
	topo, diags := loader.LoadFileContext(ctx, path)
	if topo == nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if len(diags) > 0 {
		_ = loader.WriteDiagnostics(streams.ErrOut, diags, 0, streams.ColorErr())
	}
	if diags.HasErrors() {
		return nil, InvalidInputError(fmt.Errorf("%s: %s", path, countErrors(diags)))
	}
	return topo, nil
}

// countErrors words how many errors diags hold: "1 error", "3 errors".
func countErrors(diags hcl.Diagnostics) string {
	n := len(diags.Errs())
	if n == 1 {
		return "1 error"
	}
	return fmt.Sprintf("%d errors", n)
}
