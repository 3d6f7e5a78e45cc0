package proxybin

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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

// nginx learnt -e (the startup error log) in 1.19.5; older ones, such as
// Ubuntu 22.04's 1.18, reject the option, so the check must not pass it.
func TestCheckArgsFollowTheVersion(t *testing.T) {
	tests := []struct {
		bin    Binary
		withE  bool
		wantIn []string
	}{
		{Binary{Kind: Nginx, Path: "nginx", Version: topology.Version{Major: 1, Minor: 18}}, false, []string{"-t", "-c"}},
		{Binary{Kind: Nginx, Path: "nginx", Version: topology.Version{Major: 1, Minor: 19, Patch: 4}}, false, []string{"-t", "-c"}},
		{Binary{Kind: Nginx, Path: "nginx", Version: topology.Version{Major: 1, Minor: 19, Patch: 5}}, true, []string{"-t", "-c"}},
		{Binary{Kind: Nginx, Path: "nginx", Version: topology.Version{Major: 1, Minor: 22, Patch: 1}}, true, []string{"-t", "-c"}},
		{Binary{Kind: HAProxy, Path: "haproxy", Version: topology.Version{Major: 2, Minor: 6}}, false, []string{"-c", "-f"}},
	}
	for _, tt := range tests {
		args, err := tt.bin.checkArgs("/scratch/x.conf")
		require.NoError(t, err)
		require.Equal(t, tt.withE, slices.Contains(args, "-e"), "%s %s: %v", tt.bin.Kind, tt.bin.Version, args)
		for _, a := range tt.wantIn {
			require.Contains(t, args, a)
		}
		require.Equal(t, "/scratch/x.conf", args[len(args)-1])
	}
	_, err := Binary{Kind: "envoy"}.checkArgs("/x")
	require.Error(t, err)
}

// A check the caller's context ends returns the context's error, not
// CheckTimeout's message: the caller's own timeout is not the check's.
func TestCheckEndedByTheCallerIsNoCheckTimeout(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "haproxy")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\nexec sleep 300\n"), 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := Binary{Kind: HAProxy, Path: fake}.CheckText(ctx, []byte("global\n"), nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotContains(t, err.Error(), "within "+CheckTimeout.String())
}
