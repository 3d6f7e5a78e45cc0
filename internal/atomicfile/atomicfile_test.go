package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFilesNewAndExisting(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.cfg"), filepath.Join(dir, "b.conf")
	require.NoError(t, os.WriteFile(b, []byte("old b"), 0o600))
	require.NoError(t, os.Chmod(b, 0o640))
	require.NoError(t, WriteFiles([]File{{Path: a, Data: []byte("new a"), Perm: 0o644}, {Path: b, Data: []byte("new b"), Perm: 0o644}}))
	for path, want := range map[string]string{a: "new a", b: "new b"} {
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, want, string(got))
	}
	fa, err := os.Stat(a)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), fa.Mode().Perm(), "a new file gets Perm")
	fb, err := os.Stat(b)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fb.Mode().Perm(), "an existing file keeps its mode")
	require.ElementsMatch(t, []string{"a.cfg", "b.conf"}, entries(t, dir), "no temporary file is left")
}

// When the second rename fails, the first file is put back: both old or
// both new, never a mix.
func TestWriteFilesRestoresTheFirstWhenTheSecondFails(t *testing.T) {
	for _, existed := range []bool{true, false} {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a.cfg"), filepath.Join(dir, "b.conf")
		if existed {
			require.NoError(t, os.WriteFile(a, []byte("old a"), 0o644))
		}
		require.NoError(t, os.WriteFile(b, []byte("old b"), 0o644))
		calls := 0
		if existed {
			// Where hard links fail, the old file is copied instead,
			// and restored from the copy.
			link = func(string, string) error { return errors.New("no hard links here") }
		}
		rename = func(from, to string) error {
			calls++
			if calls == 2 {
				return errors.New("disk full")
			}
			return os.Rename(from, to)
		}
		err := WriteFiles([]File{{Path: a, Data: []byte("new a"), Perm: 0o644}, {Path: b, Data: []byte("new b"), Perm: 0o644}})
		rename, link = os.Rename, os.Link
		require.ErrorContains(t, err, "write "+b+": disk full")
		got, rerr := os.ReadFile(b)
		require.NoError(t, rerr)
		require.Equal(t, "old b", string(got))
		if existed {
			got, rerr = os.ReadFile(a)
			require.NoError(t, rerr)
			require.Equal(t, "old a", string(got), "the first file is restored")
			require.ElementsMatch(t, []string{"a.cfg", "b.conf"}, entries(t, dir))
		} else {
			require.NoFileExists(t, a, "a file that did not exist is removed again")
			require.ElementsMatch(t, []string{"b.conf"}, entries(t, dir))
		}
	}
}

// A file that cannot be written (its directory is missing) stops the set
// before anything is renamed.
func TestWriteFilesFailsBeforeRenaming(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cfg")
	require.NoError(t, os.WriteFile(a, []byte("old a"), 0o644))
	err := WriteFiles([]File{{Path: a, Data: []byte("new a")}, {Path: filepath.Join(dir, "missing", "b.conf"), Data: []byte("b")}})
	require.Error(t, err)
	got, rerr := os.ReadFile(a)
	require.NoError(t, rerr)
	require.Equal(t, "old a", string(got))
	require.ElementsMatch(t, []string{"a.cfg"}, entries(t, dir))
}
