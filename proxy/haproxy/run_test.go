package haproxy

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

// HAProxy runs as a master with workers, in the foreground, its master CLI
// in the scratch dir: the reload is followed there.
func TestRunPlan(t *testing.T) {
	plan, err := run(proxy.RunRequest{Binary: "/usr/sbin/haproxy", Config: "/s/haproxy.cfg", Dir: "/s"})
	require.NoError(t, err)
	require.Equal(t, []string{"-W", "-db", "-f", "/s/haproxy.cfg", "-p", "/s/haproxy.pid", "-S", "/s/haproxy-master.sock"}, plan.Args)
	require.Equal(t, filepath.Join("/s", "haproxy-master.sock"), plan.MasterSocket)
	require.Equal(t, proxy.ReloadMasterCLI, plan.Reload)
	d, ok := proxy.Lookup("haproxy")
	require.True(t, ok)
	require.NotNil(t, d.Run, "drivers find it through the registry")
}

func TestCheckArgs(t *testing.T) {
	args := Descriptor.CheckArgs(proxybin.Binary{Kind: proxybin.HAProxy, Path: "haproxy", Version: topology.Version{Major: 2, Minor: 6}}, "/scratch/x.conf")
	require.Equal(t, []string{"-c", "-f", "/scratch/x.conf"}, args, "no -q: HAProxy 2.6 then hides the alerts")
}

// `haproxy -v` output, of today's releases and of 1.x.
func TestDescriptorReadsTheVersion(t *testing.T) {
	require.Equal(t, []string{"-v"}, Descriptor.VersionArgs)
	for out, want := range map[string]topology.Version{
		"HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term": {Major: 2, Minor: 6, Patch: 12},
		"HA-Proxy version 1.8.19 2019/02/11":                                                    {Major: 1, Minor: 8, Patch: 19},
	} {
		got, err := Descriptor.ParseVersion(out)
		require.NoError(t, err, out)
		require.Equal(t, want, got, out)
	}
	_, err := Descriptor.ParseVersion("nginx version: nginx/1.22.1\n")
	require.Error(t, err)
}
