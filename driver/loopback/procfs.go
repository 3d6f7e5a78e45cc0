package loopback

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
)

// procStat is the part of /proc/PID/stat the driver needs.
type procStat struct {
	pid, ppid, pgid int
	state           byte   // R, S, D, Z, ...
	start           string // start time in clock ticks since boot; tells a reused pid apart
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	// The command name is in parentheses and may itself contain spaces or
	// parentheses, so the fields after it start at the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := bytes.Fields(b[i+2:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgid, err2 := strconv.Atoi(string(f[2]))
	if err := errors.Join(err1, err2); err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return procStat{pid: pid, ppid: ppid, pgid: pgid, state: f[0][0], start: string(f[19])}, nil
}

// processes lists every process visible in /proc that matches keep.
func processes(keep func(procStat) bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil { // exited meanwhile
			continue
		}
		if keep(st) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// childrenOf lists the live (non-zombie) children of pid.
func childrenOf(pid int) []int {
	return processes(func(st procStat) bool { return st.ppid == pid && st.state != 'Z' })
}

// Children lists the live children of pid as this host's /proc sees
// them: a proxy master under a container's init process, for a driver
// that runs containers.
func Children(pid int) []int { return childrenOf(pid) }

// groupMembers lists the live (non-zombie) processes in process group pgid.
func groupMembers(pgid int) []int {
	return processes(func(st procStat) bool { return st.pgid == pgid && st.state != 'Z' })
}

// ProcessAlive reports whether pid names a running process (a zombie,
// exited but not yet reaped, does not count).
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	st, err := readProcStat(pid)
	if err != nil {
		return false
	}
	return st.state != 'Z'
}

// cmdline is the process title of pid with NULs as spaces ("" if gone).
func cmdline(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
}
