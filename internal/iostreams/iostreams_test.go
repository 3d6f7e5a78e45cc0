package iostreams

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBuffersAreNotTerminals(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	s, _, _, _ := Test()
	require.False(t, s.OutIsTerminal())
	require.False(t, s.ErrIsTerminal())
	require.False(t, s.ColorOut())
	require.False(t, s.ColorErr())
	require.Zero(t, s.Width())
}

func TestColorOnTerminalsUnlessNoColor(t *testing.T) {
	s, _, _, _ := Test()
	s.SetTerminal(true, false)
	t.Setenv("NO_COLOR", "")
	require.True(t, s.ColorOut())
	require.False(t, s.ColorErr(), "ErrOut is no terminal")
	t.Setenv("NO_COLOR", "1")
	require.False(t, s.ColorOut(), "NO_COLOR turns colour off")
	s.SetColor(true)
	require.True(t, s.ColorOut(), "an explicit choice wins")
	require.True(t, s.ColorErr())
	s.SetColor(false)
	t.Setenv("NO_COLOR", "")
	require.False(t, s.ColorOut())
}

func TestWidth(t *testing.T) {
	s, _, _, _ := Test()
	s.SetTerminal(true, true)
	require.Zero(t, s.Width(), "a buffer has no size")
	s.SetWidth(120)
	require.Equal(t, 120, s.Width())
}

func TestSystemDetects(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	s := System()
	s.Out, s.ErrOut = f, f
	require.False(t, s.OutIsTerminal(), "a regular file is no terminal")
	require.False(t, s.ColorOut())
}

func TestPainter(t *testing.T) {
	require.Equal(t, "x", Painter{}.Paint("x", Red))
	require.Equal(t, "\x1b[1;31mx\x1b[0m", Painter{On: true}.Paint("x", Bold+";"+Red))
	require.Equal(t, "\x1b[1mx\x1b[0m", Painter{On: true}.Bold("x"))
	require.Equal(t, "\x1b[2mx\x1b[0m", Painter{On: true}.Dim("x"))
	require.Equal(t, "", Painter{On: true}.Paint("", Red), "nothing to paint")
}
