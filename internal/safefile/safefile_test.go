package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReader(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("TOPSECRET"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "ok.conf"), []byte("ok"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "big.conf"), []byte(strings.Repeat("x", 101)), 0o644))
	require.NoError(t, os.Symlink(secret, filepath.Join(root, "link.conf")))
	require.NoError(t, os.Symlink("ok.conf", filepath.Join(root, "inner.conf")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "pipe.conf"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(root, "dir.conf"), 0o755))

	r := NewReader([]string{root}, Limits{MaxFile: 100, MaxTotal: 150, MaxFiles: 3, MaxFanOut: 1, MaxDepth: 1})
	b, err := r.Read(filepath.Join(root, "ok.conf"))
	require.NoError(t, err)
	require.Equal(t, "ok", string(b))
	b, err = r.Read(filepath.Join(root, "inner.conf"))
	require.NoError(t, err, "a symlink inside the root is followed")
	require.Equal(t, "ok", string(b))

	for name, want := range map[string]string{
		"link.conf": "outside the directories",
		"pipe.conf": "a FIFO",
		"dir.conf":  "a directory",
		"big.conf":  "larger than 100 bytes",
		"/dev/zero": "outside the directories",
		"../" + filepath.Base(outside) + "/secret": "outside the directories",
	} {
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, name)
		}
		done := make(chan error, 1)
		go func() { _, err := r.Read(p); done <- err }()
		select {
		case err := <-done:
			var re *RefusedError
			require.ErrorAs(t, err, &re, name)
			require.Contains(t, err.Error(), want, name)
			require.NotContains(t, err.Error(), "TOPSECRET")
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Read blocked", name)
		}
	}
	_, err = r.Read(filepath.Join(root, "missing.conf"))
	require.True(t, errors.Is(err, fs.ErrNotExist))

	require.Equal(t, DefaultLimits, NewReader([]string{root}, Limits{}).Limits(), "zero Limits mean the defaults")

	// A fresh reader on /dev as a root still refuses devices.
	_, err = NewReader([]string{"/dev"}, DefaultLimits).Read("/dev/zero")
	require.ErrorContains(t, err, "a character device")

	// The file count bound.
	r = NewReader([]string{root}, Limits{MaxFile: 100, MaxTotal: 1000, MaxFiles: 2})
	for i := 0; i < 2; i++ {
		_, err = r.Read(filepath.Join(root, "ok.conf"))
		require.NoError(t, err)
	}
	_, err = r.Read(filepath.Join(root, "ok.conf"))
	require.ErrorContains(t, err, "more than 2 files")

	// The total bound.
	require.NoError(t, os.WriteFile(filepath.Join(root, "half.conf"), []byte(strings.Repeat("x", 60)), 0o644))
	r = NewReader([]string{root}, Limits{MaxFile: 100, MaxTotal: 100, MaxFiles: 10})
	_, err = r.Read(filepath.Join(root, "half.conf"))
	require.NoError(t, err)
	_, err = r.Read(filepath.Join(root, "half.conf"))
	require.ErrorContains(t, err, "add up to more than 100 bytes")
}
