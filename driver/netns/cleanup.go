package netns

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Cleanup removes what killed runs left: every namespace named wslb-PID-*
// whose run (PID) no longer runs, after killing the processes still
// inside it. It names each namespace it removed.
func Cleanup(context.Context) ([]string, error) {
	entries, err := os.ReadDir(nsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		pid, ok := owner(e.Name())
		if !ok || alive(pid) {
			continue
		}
		path := filepath.Join(nsDir, e.Name())
		killInside(path)
		if err := removeNS(e.Name()); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "network namespace "+e.Name())
	}
	return removed, errors.Join(errs...)
}

// owner reads the run's pid from a namespace name wslb-PID-RANDOM-NODE.
func owner(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return 0, false
	}
	f := strings.SplitN(rest, "-", 3)
	if len(f) != 3 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[0])
	return pid, err == nil && pid > 0
}

// alive reports whether pid runs (a zombie does not count).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// killInside kills, by pid, every process whose network namespace is the
// one at path, and waits briefly for them to go.
func killInside(path string) {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return
	}
	inside := func() []int {
		var pids []int
		dirs, _ := os.ReadDir("/proc")
		for _, d := range dirs {
			pid, err := strconv.Atoi(d.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			var ns unix.Stat_t
			if unix.Stat("/proc/"+d.Name()+"/ns/net", &ns) == nil && ns.Ino == st.Ino && ns.Dev == st.Dev {
				pids = append(pids, pid)
			}
		}
		return pids
	}
	for range 50 {
		pids := inside()
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
