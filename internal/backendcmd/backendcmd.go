// Package backendcmd runs the user's own server as a verify backend
// (`wslb verify --backend-cmd 'node server.js {port} {id}'`), one process
// per server, instead of wslb's echo backend.
//
// The command is user code, often from the pull request under test, so it
// runs like code a config is allowed to run (--allow-code): in the sandbox
// every proxy runs in (internal/sandbox: the verify run's network
// namespace, read-only file system but for its own scratch directory, an
// empty environment apart from PATH and what is set here, limits, its own
// PID namespace and process group, SIGKILL when wslb dies). It is torn
// down by its process group on Stop, Close and when the run ends; its
// output is kept for the report.
package backendcmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/internal/safefile"
	"github.com/wslb/wslb/internal/sandbox"
)

// Placeholders a command may use.
const (
	PortVar = "{port}" // the port the server must listen on
	HostVar = "{host}" // the address it must listen on (127.0.0.1 on loopback)
	IDVar   = "{id}"   // the server's name, as the report shows it
)

// Bounds.
const (
	// DefaultReadyTimeout bounds a server's start until its health path
	// answers.
	DefaultReadyTimeout = 60 * time.Second
	stopGrace           = 3 * time.Second
	readyPoll           = 50 * time.Millisecond
	// OutputLines is how many of a server's last output lines are kept
	// for a report.
	OutputLines = 20
	maxCmdLen   = 4096
)

// Check validates a --backend-cmd value: one line of bounded length. The
// port may come from {port} in the command or from $WSLB_PORT in the
// server's environment (an app configured by its environment, as most are),
// so neither is required here: a server that listens elsewhere is reported
// by the readiness wait, quoting its output.
func Check(cmd string) error {
	switch {
	case strings.TrimSpace(cmd) == "":
		return errors.New("backend command is empty")
	case len(cmd) > maxCmdLen:
		return fmt.Errorf("backend command is longer than %d bytes", maxCmdLen)
	case strings.ContainsFunc(cmd, func(r rune) bool { return r < ' ' && r != '\t' }):
		return errors.New("backend command must be one line without control characters")
	}
	return nil
}

// Runner starts the processes of one verify run.
type Runner struct {
	// Cmd is the command line (sh syntax) with {port} and {id}.
	Cmd string
	// WorkDir is where it runs (verify's working directory).
	WorkDir string
	// Env is added to the process's environment (NAME=value; values are
	// verify's own, e.g. REDIS_URL).
	Env []string
	// Scratch is the run's scratch dir; each server writes below it.
	Scratch string
	// HealthPath maps a server id to the path polled until it answers
	// 2xx or 3xx; a server without one is ready when its port accepts.
	HealthPath map[string]string
	// ReadyTimeout bounds each start; default DefaultReadyTimeout.
	ReadyTimeout time.Duration
	// Dial reaches a server for the readiness checks (from a host of the
	// run's network); nil dials from this one.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	mu    sync.Mutex
	procs map[string]*Process
}

// Process is one server's process. It implements the loopback driver's
// Backend (Serve, Shutdown, Close), so that it can be stopped and started
// again on the same port like an echo backend.
type Process struct {
	r    *Runner
	id   string
	log  string // output file
	mu   sync.Mutex
	cmd  *sandbox.Cmd
	done chan struct{}
	err  error // the exit status, after done
}

// Backend returns the process for server id (not started: Serve starts
// it). The signature fits the loopback driver's BackendFactory.
func (r *Runner) Backend(id string) (*Process, error) {
	if err := Check(r.Cmd); err != nil {
		return nil, err
	}
	if err := echo.ValidateID(id); err != nil { // it goes into the command line as is
		return nil, fmt.Errorf("backend: %w", err)
	}
	dir := filepath.Join(r.Scratch, "backend-"+safeName(id))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backend %s: %w", id, err)
	}
	p := &Process{r: r, id: id, log: filepath.Join(dir, "output.log")}
	r.mu.Lock()
	if r.procs == nil {
		r.procs = map[string]*Process{}
	}
	r.procs[id] = p
	r.mu.Unlock()
	return p, nil
}

// safeName keeps a server id usable as a file name.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, id)
}

// shellQuote single-quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Script is the sh -c text that runs the command for host, port and id,
// in WorkDir with its environment set: what a driver that runs the
// server from an image of its own (a container) runs.
func (r *Runner) Script(host string, port int, id string) string { return r.script(host, port, id) }

// script is the sh -c text that runs the command for host, port and id.
func (r *Runner) script(host string, port int, id string) string {
	// Substituted as they are, so that they work inside the user's own
	// quotes too: an address, a number and a server id (letters, digits,
	// '.', '_', ':' and '-': echo.ValidateID) hold nothing sh reads.
	cmd := strings.ReplaceAll(r.Cmd, PortVar, strconv.Itoa(port))
	cmd = strings.ReplaceAll(cmd, HostVar, host)
	cmd = strings.ReplaceAll(cmd, IDVar, id)
	var b strings.Builder
	b.WriteString("cd " + shellQuote(r.WorkDir) + " || exit 97\n")
	for _, kv := range append([]string{"WSLB_HOST=" + host, "WSLB_PORT=" + strconv.Itoa(port), "WSLB_ID=" + id}, r.Env...) {
		name, value, _ := strings.Cut(kv, "=")
		b.WriteString("export " + name + "=" + shellQuote(value) + "\n")
	}
	b.WriteString(cmd + "\n")
	return b.String()
}

// Serve starts the process on ln's address and waits for it to exit. The
// listener is closed first (the server binds the address itself).
func (p *Process) Serve(ln net.Listener) error {
	addr := ln.Addr().(*net.TCPAddr)
	host, port := addr.IP.String(), addr.Port
	_ = ln.Close()
	return p.serve(host, port, "")
}

// ServeHosted starts the process on addr inside the network namespace at
// netns (a backend's own host) and waits for it to exit.
func (p *Process) ServeHosted(addr netip.AddrPort, netns string) error {
	return p.serve(addr.Addr().String(), int(addr.Port()), netns)
}

func (p *Process) serve(host string, port int, netns string) error {
	out, err := sandbox.CreateOutput(p.log)
	if err != nil {
		return p.failed(fmt.Errorf("backend %s: %w", p.id, err))
	}
	cmd, err := sandbox.Command(sandbox.Spec{
		Binary: "/bin/sh", Args: []string{"-c", p.r.script(host, port, p.id)},
		Dir: filepath.Dir(p.log), SharedNet: true, NetNS: netns,
	})
	if err != nil {
		out.Close()
		return p.failed(fmt.Errorf("backend %s: %w", p.id, err))
	}
	cmd.Stdout, cmd.Stderr = out, out
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done, p.err = cmd, done, nil
	err = cmd.Start()
	if err != nil {
		p.err = err
	}
	p.mu.Unlock()
	out.Close()
	if err != nil {
		close(done)
		return fmt.Errorf("backend %s: start: %w", p.id, err)
	}
	err = cmd.Wait()
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
	close(done)
	if err != nil {
		return fmt.Errorf("backend %s exited: %w", p.id, err)
	}
	return nil
}

// failed records a start that failed before the process ran, so that
// WaitReady reports it at once instead of waiting for a server that will
// never come.
func (p *Process) failed(err error) error {
	done := make(chan struct{})
	close(done)
	p.mu.Lock()
	p.cmd, p.done, p.err = nil, done, err
	p.mu.Unlock()
	return err
}

// started reports whether Serve has started the process (and closed the
// driver's listener before that).
func (p *Process) started() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done != nil
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	p.mu.Lock()
	done, err := p.done, p.err
	p.mu.Unlock()
	if done == nil {
		return false, nil
	}
	select {
	case <-done:
		return true, err
	default:
		return false, nil
	}
}

// signal sends sig to the process's group.
func (p *Process) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// Shutdown asks the process group to stop (SIGTERM) and kills it when ctx
// ends or after a grace period first.
func (p *Process) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	case <-time.After(stopGrace):
	}
	p.signal(syscall.SIGKILL)
	<-done
	return nil
}

// Pause freezes the process group (SIGSTOP): its connections stay open
// and nothing answers.
func (p *Process) Pause() error { return p.signalRunning(syscall.SIGSTOP) }

// Resume lets a paused process group go on (SIGCONT).
func (p *Process) Resume() error { return p.signalRunning(syscall.SIGCONT) }

func (p *Process) signalRunning(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return fmt.Errorf("backend %s is not running", p.id)
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("backend %s: %w", p.id, err)
	}
	return nil
}

// Close kills the process group at once, like a crash.
func (p *Process) Close() error {
	p.signal(syscall.SIGKILL)
	return nil
}

// Output is the last lines the server printed.
func (p *Process) Output() []string { return safefile.TailLines(p.log, OutputLines) }

// Outputs is every server's last output lines, by id, for a report.
func (r *Runner) Outputs() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string][]string{}
	for id, p := range r.procs {
		m[id] = p.Output()
	}
	return m
}

// WaitReady waits until every server answers its health path (or accepts
// connections) at its address. A server that exits first, or is not ready
// within ReadyTimeout, is an error quoting its output.
func (r *Runner) WaitReady(ctx context.Context, addrs map[string]string) error {
	timeout := r.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ids := make([]string, 0, len(addrs))
	for id := range addrs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	dial := r.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: dial}}
	for _, id := range ids {
		if err := r.waitOne(ctx, client, dial, id, addrs[id]); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) waitOne(ctx context.Context, client *http.Client, dial func(ctx context.Context, network, addr string) (net.Conn, error), id, addr string) error {
	r.mu.Lock()
	p := r.procs[id]
	r.mu.Unlock()
	path := r.HealthPath[id]
	last := "no answer yet"
	for {
		if p != nil {
			if exited, err := p.Exited(); exited {
				return p.failure(fmt.Sprintf("exited before it was ready (%v)", err))
			}
		}
		switch {
		case p != nil && !p.started():
			// The driver's listener may still be open on the port until
			// Serve closes it: an accept now would be its, not the
			// server's.
			last = "not started yet"
		case path == "":
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			c, err := dial(dctx, "tcp", addr)
			cancel()
			if err == nil {
				c.Close()
				return nil
			}
			last = err.Error()
		default:
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 400 {
					return nil
				}
				last = "GET " + path + ": " + resp.Status
			} else {
				last = err.Error()
			}
		}
		select {
		case <-ctx.Done():
			if p == nil {
				return fmt.Errorf("backend %s on %s not ready: %s", id, addr, last)
			}
			return p.failure(fmt.Sprintf("not ready on %s: %s (does it listen on {host}:{port}, $WSLB_HOST:$WSLB_PORT?)", addr, last))
		case <-time.After(readyPoll):
		}
	}
}

// failure is an error about the process quoting its last output.
func (p *Process) failure(what string) error {
	msg := fmt.Sprintf("backend %s (%s) %s", p.id, p.r.Cmd, what)
	if out := p.Output(); len(out) > 0 {
		msg += "\n--- its output (last lines) ---\n" + strings.Join(out, "\n")
	}
	return errors.New(msg)
}
