package proxybin

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/wslb/wslb/topology"
)

// haveVersioners registers, when nothing did, the versioners of
// proxy/haproxy and proxy/nginx (their tests check theirs): this
// package's own tests cannot import them, its external ones do.
func haveVersioners() {
	for kind, parse := range map[Kind]func(string) (topology.Version, error){
		HAProxy: VersionAfter("HAProxy version", "HA-Proxy version"),
		Nginx:   VersionAfter("nginx version: nginx/"),
	} {
		if _, ok := versioners.get(kind); !ok {
			versioners.add(kind, Versioner{Args: []string{"-v"}, Parse: parse})
		}
	}
}

func TestVersionAfter(t *testing.T) {
	tests := []struct {
		out  string
		want topology.Version
	}{
		{"HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term", topology.Version{Major: 2, Minor: 6, Patch: 12}},
		{"HA-Proxy version 1.8.19 2019/02/11", topology.Version{Major: 1, Minor: 8, Patch: 19}},
		{"nginx version: nginx/1.22.1\n", topology.Version{Major: 1, Minor: 22, Patch: 1}},
		{"nginx version: nginx/1.29", topology.Version{Major: 1, Minor: 29}},
	}
	parse := VersionAfter("HAProxy version", "HA-Proxy version", "nginx version: nginx/")
	for _, tt := range tests {
		got, err := parse(tt.out)
		require.NoError(t, err, tt.out)
		require.Equal(t, tt.want, got, tt.out)
	}
	_, err := parse("openresty/1.21")
	require.Error(t, err)
}

// The binary's version command and its reading come from the kind's
// Versioner; a kind without one is refused by name, not guessed.
func TestLookupReadsTheVersionWithTheKindsVersioner(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "thing")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n[ \"$1\" = --release ] || exit 2\necho \"thing release 4.5.6\"\n"), 0o755))
	RegisterVersioner("thing", Versioner{Args: []string{"--release"}, Parse: VersionAfter("thing release")})
	t.Setenv(EnvVar("thing"), bin)
	b, err := Lookup("thing")
	require.NoError(t, err)
	require.Equal(t, topology.Version{Major: 4, Minor: 5, Patch: 6}, b.Version)
	require.Equal(t, bin, b.Path)

	// Another path: versions are cached by path.
	unversioned := filepath.Join(t.TempDir(), "unversioned")
	require.NoError(t, os.WriteFile(unversioned, []byte("#!/bin/sh\necho 1.0\n"), 0o755))
	t.Setenv(EnvVar("unversioned"), unversioned)
	_, err = Lookup("unversioned")
	require.ErrorContains(t, err, `unknown proxy kind "unversioned": wslb cannot read the version of its binary`)

	bad := filepath.Join(t.TempDir(), "other")
	require.NoError(t, os.WriteFile(bad, []byte("#!/bin/sh\necho \"other 1\"\n"), 0o755))
	RegisterVersioner("other", Versioner{Args: []string{"-V"}, Parse: VersionAfter("other release")})
	t.Setenv(EnvVar("other"), bad)
	_, err = Lookup("other")
	require.ErrorContains(t, err, bad+" -V: cannot read a version from \"other 1\"")
}

func TestLookupHonoursTheEnvironment(t *testing.T) {
	t.Setenv(EnvVar(Nginx), "/nonexistent/nginx")
	_, err := Lookup(Nginx)
	var nf *NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "/nonexistent/nginx", nf.Path)
	require.Contains(t, err.Error(), "$WSLB_NGINX")
	require.Contains(t, err.Error(), "sudo apt-get install -y nginx")
}

// The proxies' packages give the command lines (their tests check them);
// a kind none registered cannot be checked.
func TestCheckArgsOfAnUnknownKind(t *testing.T) {
	_, err := Binary{Kind: "envoy"}.checkArgs("/x")
	require.Error(t, err)
	err = Binary{Kind: "envoy"}.CheckText(context.Background(), []byte("x"), nil)
	require.ErrorContains(t, err, "cannot check")
}

// A check the caller's context ends returns the context's error, not
// CheckTimeout's message: the caller's own timeout is not the check's.
func TestCheckEndedByTheCallerIsNoCheckTimeout(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "haproxy")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\nexec sleep 300\n"), 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	RegisterChecker("slow", Checker{Args: func(_ Binary, abs string) []string { return []string{"-c", "-f", abs} }, ConfigName: "slow.cfg"})
	err := Binary{Kind: "slow", Path: fake}.CheckText(ctx, []byte("global\n"), nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotContains(t, err.Error(), "within "+CheckTimeout.String())
}
