package safefile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTailLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	require.Nil(t, TailLines(filepath.Join(dir, "missing"), 3))
	require.Nil(t, TailLines(write("empty", "\n"), 3))
	require.Equal(t, []string{"b", "c"}, TailLines(write("short", "a\nb\nc\n"), 2))
	require.Equal(t, []string{"a", "b", "c"}, TailLines(write("all", "a\nb\nc"), 5))
	// A huge log: only its end is read, and the line cut at the window's
	// start is not quoted.
	big := strings.Repeat("x", 3*tailBytes) + "\n" + strings.Repeat("y", tailBytes/2) + "\nlast\n"
	require.Equal(t, []string{strings.Repeat("y", tailBytes/2), "last"}, TailLines(write("big", big), 5))
	cut := strings.Repeat("z", 2*tailBytes) + "\nend\n"
	require.Equal(t, []string{"end"}, TailLines(write("cut", cut), 5))
}
