package e2e

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMakeBuildIsStatic: the binary `make build` writes is the one the
// README's users run with --driver docker, which copies it into a FROM
// scratch image; a dynamically linked build fails there at once.
func TestMakeBuildIsStatic(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	bin := filepath.Join(t.TempDir(), "wslb")
	cmd := exec.Command("make", "-s", "build", "BIN="+bin)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make build: %s", out)

	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "make build wrote a dynamically linked binary (it has an ELF interpreter)")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	require.Empty(t, libs, "make build wrote a binary that needs shared libraries")
}
