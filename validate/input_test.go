package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/safefile"
)

// TestIncludesAreReadSafely lints NGINX configs whose includes reach
// outside the given directory, at FIFOs and devices, match too many files
// or nest into a bomb: each is a WSLB001 at the include line, fast, and
// nothing outside the root is quoted.
func TestIncludesAreReadSafely(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.conf")
	require.NoError(t, os.WriteFile(secret, []byte("TOPSECRET;\n"), 0o644))
	main := func(inc string) string {
		return "events {}\nhttp {\n    " + inc + "\n}\n"
	}
	for _, tt := range []struct {
		name  string
		setup func(dir string)
		inc   string
		want  string
	}{
		{"outside", nil, "include " + secret + ";", "outside the directories"},
		{"symlink", func(d string) { require.NoError(t, os.Symlink(secret, filepath.Join(d, "s.conf"))) }, "include s.conf;", "outside the directories"},
		{"glob-symlink", func(d string) { require.NoError(t, os.Symlink(secret, filepath.Join(d, "s.inc"))) }, "include *.inc;", "outside the directories"},
		{"devzero", nil, "include /dev/zero;", "outside the directories"},
		{"fifo", func(d string) { require.NoError(t, syscall.Mkfifo(filepath.Join(d, "p.inc"), 0o644)) }, "include *.inc;", "a FIFO"},
		{"fan-out", func(d string) {
			for i := 0; i < 5; i++ {
				require.NoError(t, os.WriteFile(filepath.Join(d, fmt.Sprintf("%d.inc", i)), nil, 0o644))
			}
		}, "include *.inc;", "matches 5 files, more than 4"},
		{"bomb", func(d string) {
			for i := 0; i < 12; i++ {
				next := fmt.Sprintf("include b%d.inc;\n", i+1)
				require.NoError(t, os.WriteFile(filepath.Join(d, fmt.Sprintf("b%d.inc", i)), []byte(strings.Repeat(next, 8)), 0o644))
			}
			require.NoError(t, os.WriteFile(filepath.Join(d, "b12.inc"), []byte("gzip on;\n"), 0o644))
		}, "include b0.inc;", "an include bomb"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.setup != nil {
				tt.setup(dir)
			}
			file := filepath.Join(dir, "nginx.conf")
			require.NoError(t, os.WriteFile(file, []byte(main(tt.inc)), 0o644))
			lim := safefile.DefaultLimits
			lim.MaxFanOut = 4
			res, err := Lint(context.Background(), []Source{{Name: file}}, Options{Roots: []string{dir}, Limits: lim})
			require.NoError(t, err)
			var hit bool
			for _, f := range res.Findings {
				require.NotContains(t, f.Message, "TOPSECRET")
				if f.Rule == "WSLB001" && f.Line == 3 && strings.Contains(f.Message, tt.want) {
					hit = true
				}
			}
			require.True(t, hit, "want WSLB001 at line 3 saying %q, got %+v", tt.want, res.Findings)
		})
	}
}

// TestSourcesAreReadSafely refuses sources that are symlinks out of the
// given directories, FIFOs and files over the size limit.
func TestSourcesAreReadSafely(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "link.cfg")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.cfg"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.cfg"), make([]byte, 2048), 0o644))
	lim := safefile.DefaultLimits
	lim.MaxFile = 1024
	for name, want := range map[string]string{"link.cfg": "outside", "pipe.cfg": "FIFO", "big.cfg": "larger than 1024 bytes"} {
		_, err := Lint(context.Background(), []Source{{Name: filepath.Join(dir, name), Kind: HAProxy}}, Options{Roots: []string{dir}, Limits: lim})
		var re *safefile.RefusedError
		require.ErrorAs(t, err, &re, name)
		require.Contains(t, err.Error(), want)
		require.NotContains(t, err.Error(), "root:")
	}
}
