package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"version", []string{"version"}, ExitOK},
		{"unknown command", []string{"frobnicate"}, ExitUsage},
		{"unknown flag", []string{"version", "--frob"}, ExitUsage},
		{"extra argument", []string{"version", "extra"}, ExitUsage},
		{"bad completion shell", []string{"completion", "powershell"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			require.Equal(t, tt.want, code, "stderr: %s", stderr)
		})
	}
}

func TestExitCodeMapping(t *testing.T) {
	require.Equal(t, ExitOK, ExitCode(nil))
	require.Equal(t, ExitFailed, ExitCode(errors.New("plain")))
	require.Equal(t, ExitInvalidInput, ExitCode(fmt.Errorf("load: %w", InvalidInputError(errors.New("bad")))))
	require.Equal(t, ExitMissingEnviron, ExitCode(MissingEnvironmentError(errors.New("no haproxy"))))
	require.Equal(t, ExitUsage, ExitCode(UsageError("bad flag %q", "x")))
	require.Equal(t, ExitFailed, ExitCode(FailedError(errors.New("findings"))))
}

func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			code, out, stderr := runCLI(t, "completion", shell)
			require.Equal(t, ExitOK, code, stderr)
			require.Contains(t, out, "wslb")
		})
	}
}

func TestEveryCommandHasAnExample(t *testing.T) {
	root := NewRootCmd(IOStreams{In: &bytes.Buffer{}, Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	require.NotEmpty(t, root.Example)
	for _, cmd := range root.Commands() {
		if cmd.Hidden || cmd.Name() == "help" {
			continue
		}
		require.NotEmpty(t, cmd.Example, "command %q has no example in --help", cmd.Name())
	}
}
