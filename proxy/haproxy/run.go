package haproxy

import (
	"path/filepath"

	"github.com/wslb/wslb/proxy"
)

// run starts HAProxy in master-worker mode (-W) in the foreground (-db),
// with the master CLI on a socket in the scratch dir: it tells which
// workers are current after a reload.
func run(r proxy.RunRequest) (proxy.RunPlan, error) {
	sock := filepath.Join(r.Dir, "haproxy-master.sock")
	return proxy.RunPlan{
		Args:         []string{"-W", "-db", "-f", r.Config, "-p", filepath.Join(r.Dir, "haproxy.pid"), "-S", sock},
		MasterSocket: sock,
		Reload:       proxy.ReloadMasterCLI,
	}, nil
}
