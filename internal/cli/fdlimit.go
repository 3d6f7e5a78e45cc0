package cli

import "syscall"

// hostFDLimit is this machine's hard file descriptor limit, the most a
// proxy started here can raise its own to; 0 when unknown or unlimited.
// generate and validate size derived connection budgets to it, so that
// the configs start on the machine they are generated and checked on.
func hostFDLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Max > 1<<30 { // includes RLIM_INFINITY
		return 0
	}
	return int(rl.Max)
}
