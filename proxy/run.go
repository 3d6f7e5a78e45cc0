package proxy

// RunRequest is what a driver knows when it starts a proxy in the
// foreground: the binary, the main config and the run's scratch dir (all
// absolute paths).
type RunRequest struct {
	Binary string
	Config string
	// Dir holds the pid file, sockets and logs the command line names.
	Dir string
}

// Reload is how a running proxy takes its config again.
type Reload int

const (
	// ReloadMasterCLI: SIGUSR2 to the master, which re-executes itself,
	// forks new workers and soft-stops the old ones; the master CLI
	// (RunPlan.MasterSocket) tells when the new workers are current and
	// whether the reload failed (HAProxy in master-worker mode).
	ReloadMasterCLI Reload = iota + 1
	// ReloadSIGHUP: SIGHUP to the master, which starts new workers and
	// tells the old ones to shut down gracefully; an [emerg] line in
	// RunPlan.ErrorLogs means the new config was rejected (NGINX).
	ReloadSIGHUP
)

// RunPlan is how to run a proxy in the foreground, as a child that stays
// the master of its workers.
type RunPlan struct {
	// Args follow the binary on the command line.
	Args []string
	// ErrorLogs are files besides its output where the proxy writes its
	// errors.
	ErrorLogs []string
	// MasterSocket is the master CLI socket Args open, "" if none: the
	// reload's progress and the servers' state are read there.
	MasterSocket string
	// Reload is the reload strategy.
	Reload Reload
}
