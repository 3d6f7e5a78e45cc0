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

func TestParseVersionOutput(t *testing.T) {
	tests := []struct {
		out  string
		want topology.Version
	}{
		{"HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term", topology.Version{Major: 2, Minor: 6, Patch: 12}},
		{"HA-Proxy version 1.8.19 2019/02/11", topology.Version{Major: 1, Minor: 8, Patch: 19}},
		{"nginx version: nginx/1.22.1\n", topology.Version{Major: 1, Minor: 22, Patch: 1}},
		{"nginx version: nginx/1.29", topology.Version{Major: 1, Minor: 29}},
	}
	for _, tt := range tests {
		got, err := ParseVersionOutput(tt.out)
		require.NoError(t, err, tt.out)
		require.Equal(t, tt.want, got, tt.out)
	}
	_, err := ParseVersionOutput("openresty/1.21")
	require.Error(t, err)
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
