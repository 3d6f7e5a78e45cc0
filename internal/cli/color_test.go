package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestColorFollowsTerminalAndNoColor: every command that colours output
// (validate's findings on stdout, topology diagnostics on stderr) does so
// on a terminal only, and never when NO_COLOR is set.
func TestColorFollowsTerminalAndNoColor(t *testing.T) {
	bad := writeConfig(t, "haproxy.cfg", withError)
	invalid := "../../testdata/invalid/duplicates.hcl"
	run := func(args ...string) (stdout, stderr string) {
		var out, errOut bytes.Buffer
		s := IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
		s.SetTerminal(true, true)
		Run(context.Background(), args, s)
		return out.String(), errOut.String()
	}
	for _, noColor := range []string{"", "1"} {
		t.Setenv("NO_COLOR", noColor)
		stdout, _ := run("validate", bad)
		_, stderr := run("generate", invalid, "-o", t.TempDir())
		require.Contains(t, stderr, "error:")
		if noColor == "" {
			require.Contains(t, stdout, "\x1b[", "validate colours findings on a terminal")
			require.Contains(t, stderr, "\x1b[", "diagnostics are coloured on a terminal")
		} else {
			require.NotContains(t, stdout, "\x1b[", "NO_COLOR")
			require.NotContains(t, stderr, "\x1b[", "NO_COLOR")
		}
	}
}
