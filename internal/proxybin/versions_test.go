package proxybin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/topology"
)

// fakeCache lays out a proxy cache as scripts/proxies does: one root
// filesystem per suite holding usr/sbin/KIND and the recorded -v output.
func fakeCache(t *testing.T, suites map[string]map[Kind]string) string {
	t.Helper()
	haveVersioners()
	dir := t.TempDir()
	for suite, outs := range suites {
		root := filepath.Join(dir, suite)
		require.NoError(t, os.MkdirAll(filepath.Join(root, "usr", "sbin"), 0o755))
		require.NoError(t, os.MkdirAll(filepath.Join(root, metaDir), 0o755))
		for kind, out := range outs {
			require.NoError(t, os.WriteFile(filepath.Join(root, "usr", "sbin", string(kind)), []byte("#!/bin/false\n"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, metaDir, string(kind)+".version"), []byte(out), 0o644))
		}
	}
	// A build in progress and a suite whose build never finished.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".sid.abc123", metaDir), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "broken", "usr", "sbin"), 0o755))
	t.Setenv(CacheEnv, dir)
	noHostBinaries(t)
	return dir
}

// noHostBinaries hides the installed binaries: the tests see the cache
// alone.
func noHostBinaries(t *testing.T) {
	lookupDefault = func(k Kind) (Binary, error) { return Binary{}, &NotFoundError{Kind: k} }
	t.Cleanup(func() { lookupDefault = Lookup })
}

func ver(major, minor, patch int) topology.Version {
	return topology.Version{Major: major, Minor: minor, Patch: patch}
}

func TestAllListsTheCachedVersions(t *testing.T) {
	dir := fakeCache(t, map[string]map[Kind]string{
		"sid":    {HAProxy: "HAProxy version 3.2.9-1 2026/11/01\n", Nginx: "nginx version: nginx/1.30.0\n"},
		"trixie": {HAProxy: "HAProxy version 3.0.11-1+deb13u4 2026/10/15\n", Nginx: "nginx version: nginx/1.26.3\n"},
	})
	all, err := All(HAProxy)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, ver(3, 0, 11), all[0].Version, "oldest first")
	require.Equal(t, filepath.Join(dir, "trixie"), all[0].Root)
	require.Equal(t, filepath.Join(dir, "trixie", "usr", "sbin", "haproxy"), all[0].Path)
	require.Equal(t, ver(3, 2, 9), all[1].Version)

	// At knows a cached binary by its path, without running it.
	b, err := At(Nginx, filepath.Join(dir, "sid", "usr", "sbin", "nginx"))
	require.NoError(t, err)
	require.Equal(t, ver(1, 30, 0), b.Version)
	require.Equal(t, filepath.Join(dir, "sid"), b.Root)
	require.Equal(t, filepath.Join(dir, "sid"), RootOf(b.Path))
	require.Empty(t, RootOf("/usr/sbin/nginx"))
}

func TestFindPicksTheVersionAskedFor(t *testing.T) {
	fakeCache(t, map[string]map[Kind]string{
		"sid":    {HAProxy: "HAProxy version 3.2.9-1 2026/11/01\n", Nginx: "nginx version: nginx/1.30.0\n"},
		"trixie": {HAProxy: "HAProxy version 3.0.11-1+deb13u4 2026/10/15\n", Nginx: "nginx version: nginx/1.26.3\n"},
	})
	tests := []struct {
		kind Kind
		want Want
		got  topology.Version
	}{
		{HAProxy, Want{Version: "3.0"}, ver(3, 0, 11)},
		{HAProxy, Want{Version: "3.2.9"}, ver(3, 2, 9)},
		{Nginx, Want{Version: "1.30"}, ver(1, 30, 0)},
		// A target picks the oldest version that is at least as new.
		{Nginx, Want{AtLeast: ver(1, 29, 6)}, ver(1, 30, 0)},
		{Nginx, Want{AtLeast: ver(1, 18, 0)}, ver(1, 26, 3)},
		{HAProxy, Want{AtLeast: ver(3, 1, 0)}, ver(3, 2, 9)},
	}
	for _, tt := range tests {
		b, err := Find(tt.kind, tt.want)
		require.NoError(t, err, "%s %v", tt.kind, tt.want)
		require.Equal(t, tt.got, b.Version, "%s %v", tt.kind, tt.want)
	}

	for _, w := range []Want{{Version: "3.1"}, {Version: "3.0.1"}, {AtLeast: ver(3, 3, 0)}} {
		_, err := Find(HAProxy, w)
		var nf *NotFoundError
		require.ErrorAs(t, err, &nf, "%v", w)
		require.Equal(t, []topology.Version{ver(3, 0, 11), ver(3, 2, 9)}, nf.Have)
		require.Contains(t, err.Error(), "make proxies")
		require.Contains(t, err.Error(), "3.0.11, 3.2.9")
		require.Equal(t, "make proxies", nf.InstallHint())
	}
	_, err := Find(HAProxy, Want{Version: "three"})
	require.Error(t, err)

	// A binary named by the environment but missing is reported, not
	// replaced by a cached one.
	lookupDefault = Lookup
	t.Setenv(EnvVar(HAProxy), "/nonexistent/haproxy")
	_, err = Find(HAProxy, Want{AtLeast: ver(2, 4, 0)})
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "/nonexistent/haproxy", nf.Path)
}

func TestNoCacheHoldsNothing(t *testing.T) {
	t.Setenv(CacheEnv, filepath.Join(t.TempDir(), "absent"))
	noHostBinaries(t)
	all, err := All(HAProxy)
	require.NoError(t, err)
	require.Empty(t, all)
	_, err = Find(HAProxy, Want{Version: "3.2"})
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Contains(t, err.Error(), "have: none")
}

func TestCacheDirFollowsXDG(t *testing.T) {
	t.Setenv(CacheEnv, "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	require.Equal(t, "/x/cache/wslb/proxies", CacheDir())
	t.Setenv(CacheEnv, "/y")
	require.Equal(t, "/y", CacheDir())
}
