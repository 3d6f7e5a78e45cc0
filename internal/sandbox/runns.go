package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// runNSEnv marks a wslb started by RunInNamespace: its init brings lo up.
const runNSEnv = "WSLB_SANDBOX_RUNNS"

// IsolatedNetwork reports whether this process's network namespace holds
// nothing but the loopback interface: no route leads off the machine.
func IsolatedNetwork() bool {
	ifs, err := net.Interfaces()
	return err == nil && len(ifs) == 1 && ifs[0].Flags&net.FlagLoopback != 0
}

// RunInNamespace runs wslb again, with the same arguments, standard streams
// and environment, in a new network namespace holding only lo (and, when
// wslb is not root, a user namespace that makes it root there). verify
// runs this way so that its backends, its clients and the proxy share one
// namespace from which no address but loopback is reachable; every socket
// the run opens is inside by construction. SIGINT and SIGTERM are passed
// on to the child, which tears down and exits; when ctx ends otherwise it
// gets SIGTERM, and if wslb dies, SIGKILL.
// It returns the child's exit status, or an *UnavailableError.
func RunInNamespace(ctx context.Context) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("find wslb's own binary: %w", err)
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), runNSEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWNET}
	asRootInUserNS(cmd.SysProcAttr)
	if err := spawn(cmd); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) {
			return 0, &UnavailableError{Reason: err}
		}
		return 0, fmt.Errorf("start wslb in a network namespace: %w", err)
	}
	// The child gets the signal this process got (SIGINT from a terminal
	// reaches it directly too), or SIGTERM when ctx ends otherwise.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	exited := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case <-ctx.Done():
			// A signal also ends ctx (the CLI cancels it from its own
			// handler), and may reach that handler before sigs: wait
			// for it briefly so the child still gets that very signal.
			sig := os.Signal(syscall.SIGTERM)
			select {
			case sig = <-sigs:
			case <-time.After(200 * time.Millisecond):
			}
			_ = cmd.Process.Signal(sig)
		case <-exited:
		}
	}()
	_ = cmd.Wait()
	close(exited)
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}

// setUpRunNamespace runs in the child of RunInNamespace before main.
func setUpRunNamespace() {
	_ = os.Unsetenv(runNSEnv)
	if code := setUpNetwork(); code != 0 {
		os.Exit(code)
	}
}
