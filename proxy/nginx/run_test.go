package nginx

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
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

// nginx learnt -e (the startup error log) in 1.19.5; older ones, such as
// Ubuntu 22.04's 1.18, reject the option, so the check must not pass it.
func TestCheckArgsFollowTheVersion(t *testing.T) {
	for _, tt := range []struct {
		version topology.Version
		withE   bool
	}{
		{topology.Version{Major: 1, Minor: 18}, false},
		{topology.Version{Major: 1, Minor: 19, Patch: 4}, false},
		{topology.Version{Major: 1, Minor: 19, Patch: 5}, true},
		{topology.Version{Major: 1, Minor: 22, Patch: 1}, true},
	} {
		args := Descriptor.CheckArgs(proxybin.Binary{Kind: proxybin.Nginx, Path: "nginx", Version: tt.version}, "/scratch/x.conf")
		require.Equal(t, tt.withE, slices.Contains(args, "-e"), "nginx %s: %v", tt.version, args)
		require.Contains(t, args, "-t")
		require.Contains(t, args, "-c")
		require.Equal(t, "/scratch/x.conf", args[len(args)-1])
	}
}

// `nginx -v` output; another build's banner is no NGINX version.
func TestDescriptorReadsTheVersion(t *testing.T) {
	require.Equal(t, []string{"-v"}, Descriptor.VersionArgs)
	for out, want := range map[string]topology.Version{
		"nginx version: nginx/1.22.1\n": {Major: 1, Minor: 22, Patch: 1},
		"nginx version: nginx/1.29":     {Major: 1, Minor: 29},
	} {
		got, err := Descriptor.ParseVersion(out)
		require.NoError(t, err, out)
		require.Equal(t, want, got, out)
	}
	_, err := Descriptor.ParseVersion("openresty/1.21")
	require.Error(t, err)
	// Found through the registry, as validate --exec and verify find it.
	t.Setenv(Descriptor.EnvVar(), fakeNginx(t, "1.26.3"))
	b, err := Descriptor.Binary()
	require.NoError(t, err)
	require.Equal(t, topology.Version{Major: 1, Minor: 26, Patch: 3}, b.Version)
}
