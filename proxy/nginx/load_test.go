package nginx

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// validate's rules and verify's rewrite read NGINX with one Load; the
// Mode decides only what each needs: the rules see comments and report
// unknown directives and absent includes, the rewrite passes unknown
// directives through and reads absent includes as empty. Both refuse the
// same includes, at the include's line.
func TestLoadModes(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "nginx.conf")
	files := map[string]string{
		main: "events {}\n# wslb:ignore WSLB104\nhttp {\n    vendor_directive on;\n    include missing.conf;\n" +
			"    server { listen 80; }\n}\n",
		filepath.Join(dir, "secret", "a.conf"): "server_tokens off;\n",
	}
	limits := Limits{Check: func(p string) error {
		if strings.Contains(p, "secret") {
			return errors.New("outside the roots")
		}
		return nil
	}}
	lint := Load(context.Background(), main, LoadOptions{Mode: ForRules, Open: memOpener(files), Limits: limits})
	var at []string
	for _, p := range lint.Problems {
		at = append(at, fmt.Sprintf("%d: %s", p.Line, p.Message))
	}
	require.Len(t, lint.Comments, 1, "the rules read comments (suppressions)")
	require.ElementsMatch(t, []string{`4: unknown directive "vendor_directive"`, "5: file does not exist"}, at)
	require.Empty(t, lint.Missing)

	rw := Load(context.Background(), main, LoadOptions{Mode: ForRewrite, Open: memOpener(files), Limits: limits})
	require.Empty(t, rw.Problems, "the rewrite passes unknown directives through")
	require.Empty(t, rw.Comments)
	require.Equal(t, []string{filepath.Join(dir, "missing.conf")}, rw.Missing)
	require.Len(t, rw.All("vendor_directive"), 1, "kept in the tree the rewrite renders")

	// A file an include names that Check refuses: the same Problem, at
	// the include line, in both modes.
	files[main] = "events {}\nhttp {\n    include secret/a.conf;\n}\n"
	for _, mode := range []Mode{ForRules, ForRewrite} {
		c := Load(context.Background(), main, LoadOptions{Mode: mode, Open: func(p string) ([]byte, error) {
			if err := limits.Check(p); err != nil {
				return nil, err
			}
			return memOpener(files)(p)
		}, Limits: limits})
		require.Len(t, c.Problems, 1, "mode %d", mode)
		require.Equal(t, 3, c.Problems[0].Line)
		require.Contains(t, c.Problems[0].Message, "outside the roots")
		require.True(t, c.Refused())
	}
}
