package loopback

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wslb/wslb/proxy"
)

// Reload makes the proxy re-read its config gracefully and waits until the
// reload took effect: new workers serve new connections while old workers
// keep their established connections (until HAProxy's hard-stop-after or
// nginx's worker_shutdown_timeout).
//
// The strategy is the proxy descriptor's (proxy.RunPlan.Reload):
//
//   - HAProxy (proxy.ReloadMasterCLI): SIGUSR2 to the master, which
//     re-executes itself (same pid), forks new workers and soft-stops the
//     old ones once the new ones are ready. Done when the master CLI's
//     `show proc` counts one more reload, lists a new current worker and
//     lists none of the previous current workers as current. A failed
//     reload (the master's "failed" counter grew) is an error; the old
//     workers then keep serving.
//   - nginx (proxy.ReloadSIGHUP): SIGHUP to the master, which starts new
//     workers and tells the old ones to shut down gracefully. Done when a
//     new worker exists and every previous worker has exited or titles
//     itself "shutting down". An [emerg] line appearing in the error log
//     is an error.
//
// It fails after ReadyTimeout, and if the proxy exits meanwhile.
func (p *Proxy) Reload(ctx context.Context) error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	if isClosed(p.exit.Exited()) {
		return fmt.Errorf("reload %s: %w (%v)", p.opts.Kind, errNotRunning, p.Err())
	}
	ctx, cancel := context.WithTimeout(ctx, p.opts.ReadyTimeout)
	defer cancel()
	w := Master{Exited: p.exit.Exited(), Err: p.Err, Signal: func(sig syscall.Signal) error {
		if err := syscall.Kill(p.pid, sig); err != nil {
			return fmt.Errorf("signal master %d: %w", p.pid, err)
		}
		return nil
	}}
	var err error
	switch p.reload {
	case proxy.ReloadMasterCLI:
		err = w.ReloadMasterCLI(ctx, p.masterSock)
	case proxy.ReloadSIGHUP:
		err = w.ReloadSIGHUP(ctx, p.pid, p.errorLogs)
	default:
		err = errors.New("no reload strategy")
	}
	if err != nil {
		return fmt.Errorf("reload %s: %w%s", p.opts.Kind, err, formatTail(p.LogTail(logTailLines)))
	}
	return nil
}

var errNotRunning = errors.New("the proxy is not running")

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Master is a running proxy master as a reload sees it, wherever it runs:
// how to signal it, and how to learn that it exited.
type Master struct {
	// Signal sends sig to the master process.
	Signal func(sig syscall.Signal) error
	// Exited is closed once the master exited; Err then says how.
	Exited <-chan struct{}
	Err    func() error
}

// poll calls done every pollInterval until it reports true or an error, the
// context ends, or the proxy exits.
func (p Master) poll(ctx context.Context, what string, done func() (bool, error)) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-p.Exited:
			return fmt.Errorf("%s: proxy exited (%v)", what, p.Err())
		case <-tick.C:
		}
	}
}

// ReloadMasterCLI reloads an HAProxy master in master-worker mode (see
// Proxy.Reload) whose master CLI is sock.
func (p Master) ReloadMasterCLI(ctx context.Context, sock string) error {
	var before procTable
	if err := p.poll(ctx, "read master CLI", func() (bool, error) {
		t, err := showProc(sock)
		before = t
		return err == nil, nil
	}); err != nil {
		return err
	}
	if err := p.Signal(syscall.SIGUSR2); err != nil {
		return err
	}
	return p.poll(ctx, "wait for new workers", func() (bool, error) {
		now, err := showProc(sock)
		if err != nil { // the master CLI is down while the master re-executes
			return false, nil
		}
		if now.reloads <= before.reloads {
			return false, nil
		}
		if now.failed > before.failed {
			return false, fmt.Errorf("the new configuration was rejected; old workers keep serving")
		}
		for _, w := range now.workers {
			if slices.Contains(before.workers, w) {
				return false, nil // a previous worker is still current
			}
		}
		return len(now.workers) > 0, nil
	})
}

// procTable is what `show proc` on the HAProxy master CLI says.
type procTable struct {
	reloads, failed int
	workers         []int // current workers
}

var masterLineRe = regexp.MustCompile(`^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]`)

func showProc(sock string) (procTable, error) {
	var t procTable
	err := masterCommand(context.Background(), sock, "show proc", func(r io.Reader) error {
		var err error
		t, err = parseShowProc(r)
		return err
	})
	return t, err
}

func parseShowProc(r io.Reader) (procTable, error) {
	var t procTable
	section, sawMaster := "", false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#"):
			section = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		if m := masterLineRe.FindStringSubmatch(line); m != nil {
			t.reloads, _ = strconv.Atoi(m[2])
			t.failed, _ = strconv.Atoi(m[3])
			sawMaster = true
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || f[1] != "worker" {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil || section != "workers" { // not "old workers"
			continue
		}
		t.workers = append(t.workers, pid)
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	if !sawMaster {
		return t, fmt.Errorf("show proc: no master line")
	}
	return t, nil
}

// ReloadSIGHUP reloads an NGINX master (see Proxy.Reload): pid is the
// master's process id as this host's /proc sees it, errorLogs the logs
// its [emerg] lines go to.
func (p Master) ReloadSIGHUP(ctx context.Context, pid int, errorLogs []string) error {
	before := childrenOf(pid)
	offsets := make(map[string]int64, len(errorLogs))
	for _, path := range errorLogs {
		if fi, err := os.Stat(path); err == nil {
			offsets[path] = fi.Size()
		}
	}
	if err := p.Signal(syscall.SIGHUP); err != nil {
		return err
	}
	return p.poll(ctx, "wait for new workers", func() (bool, error) {
		for _, path := range errorLogs {
			if line := firstEmerg(path, offsets[path]); line != "" {
				return false, fmt.Errorf("the new configuration was rejected; old workers keep serving: %s", line)
			}
		}
		now := childrenOf(pid)
		fresh := slices.ContainsFunc(now, func(w int) bool { return !slices.Contains(before, w) })
		if !fresh {
			return false, nil
		}
		for _, w := range before {
			if slices.Contains(now, w) && !strings.Contains(cmdline(w), "shutting down") {
				return false, nil
			}
		}
		return true, nil
	})
}

// firstEmerg returns the first "[emerg]" line written to path after offset.
func firstEmerg(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "[emerg]") {
			return sc.Text()
		}
	}
	return ""
}
