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
