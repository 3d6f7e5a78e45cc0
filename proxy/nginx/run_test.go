package nginx

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy"
)

// fakeNginx is an executable that reports the given version, as `nginx -v`
// does (on stderr).
func fakeNginx(t *testing.T, version string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nginx")
	script := "#!/bin/sh\necho 'nginx version: nginx/" + version + "' >&2\n"
	testutil.WriteExecutable(t, path, []byte(script))
	return path
}

// nginx before 1.19.5 has no -e flag and refuses to start with it.
func TestNginxArgsFollowTheVersion(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(conf, []byte("events {}\n"), 0o644))
	for version, wantE := range map[string]bool{"1.18.0": false, "1.19.5": true, "1.22.1": true} {
		plan, err := run(proxy.RunRequest{Binary: fakeNginx(t, version), Config: conf, Dir: dir})
		require.NoError(t, err)
		args := plan.Args
		require.Equal(t, wantE, slices.Contains(args, "-e"), "nginx %s: %v", version, args)
		require.Contains(t, args, "-g", "daemon off and the pid file come from the command line")
	}
}
