package backendcmd

import (
	"context"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	for _, bad := range []string{"", "  ", "node s.js {port}\nrm -rf /", strings.Repeat("x", 5000) + "{port}"} {
		if err := Check(bad); err == nil {
			t.Errorf("Check(%q) accepted", bad)
		}
	}
	// The port may come from the environment instead of the command.
	for _, good := range []string{"node server.js {port} {id}", "node server.js"} {
		if err := Check(good); err != nil {
			t.Error(err)
		}
	}
}

// A server configured only by its environment ($WSLB_HOST, $WSLB_PORT) is
// run and found ready on the port verify gave it.
func TestProcessListensOnEnvironmentPort(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	r := &Runner{
		Cmd:     `exec python3 -m http.server "$WSLB_PORT" --bind "$WSLB_HOST"`,
		WorkDir: "/", Scratch: t.TempDir(), HealthPath: map[string]string{"web1": "/"},
	}
	p, err := r.Backend("web1")
	if err != nil {
		t.Fatal(err)
	}
	ln := freeListener(t)
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.WaitReady(ctx, map[string]string{"web1": addr}); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-served
}

func TestScript(t *testing.T) {
	r := &Runner{Cmd: "node server.js --host {host} {port} {id}", WorkDir: "/srv/it's", Env: []string{"REDIS_URL=redis://127.0.0.1:6380"}}
	got := r.script("127.0.0.1", 4321, "io1")
	for _, want := range []string{`cd '/srv/it'\''s' || exit 97`, "export WSLB_PORT='4321'", "export WSLB_HOST='127.0.0.1'", "export REDIS_URL='redis://127.0.0.1:6380'", "node server.js --host 127.0.0.1 4321 io1"} {
		if !strings.Contains(got, want) {
			t.Errorf("script lacks %q:\n%s", want, got)
		}
	}
}

func TestBackendRefusesUnsafeID(t *testing.T) {
	r := &Runner{Cmd: "node s.js {port} {id}", WorkDir: "/", Scratch: t.TempDir()}
	if _, err := r.Backend("io1; rm -rf ~"); err == nil {
		t.Fatal("an id with shell syntax was accepted")
	}
}

func freeListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// A real process: started on the port, ready by its health path, its
// output kept, its whole group stopped by Shutdown.
func TestProcessLifecycle(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	r := &Runner{
		Cmd:     "echo starting {id}; exec python3 -m http.server {port} --bind {host}",
		WorkDir: "/", Scratch: t.TempDir(), HealthPath: map[string]string{"web1": "/"},
	}
	p, err := r.Backend("web1")
	if err != nil {
		t.Fatal(err)
	}
	ln := freeListener(t)
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()
	if err := r.WaitReady(context.Background(), map[string]string{"web1": addr}); err != nil {
		t.Fatal(err)
	}
	if out := r.Outputs()["web1"]; len(out) == 0 || out[0] != "starting web1" {
		t.Errorf("output %q", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-served
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the server still accepts after Shutdown")
	}
}

// A command that dies at once is reported with its output, not waited for.
func TestProcessExitsBeforeReady(t *testing.T) {
	r := &Runner{Cmd: "echo cannot find module {port} >&2; exit 3", WorkDir: "/", Scratch: t.TempDir(), ReadyTimeout: 20 * time.Second}
	p, err := r.Backend("io1")
	if err != nil {
		t.Fatal(err)
	}
	ln := freeListener(t)
	addr := ln.Addr().String()
	go func() { _ = p.Serve(ln) }()
	start := time.Now()
	err = r.WaitReady(context.Background(), map[string]string{"io1": addr})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "cannot find module") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s: the exit was not noticed", time.Since(start))
	}
}

// A server that cannot even be started (here: its output file cannot be
// made) is reported at once, with the reason, not after the ready
// timeout.
func TestProcessThatCannotStartIsReportedAtOnce(t *testing.T) {
	r := &Runner{Cmd: "true {port}", WorkDir: "/", Scratch: t.TempDir(), ReadyTimeout: 20 * time.Second}
	p, err := r.Backend("io1")
	if err != nil {
		t.Fatal(err)
	}
	p.log = filepath.Join(t.TempDir(), "gone", "output.log")
	served := make(chan error, 1)
	go func() { served <- p.ServeHosted(netip.MustParseAddrPort("127.0.0.1:1"), "") }()
	start := time.Now()
	err = r.WaitReady(context.Background(), map[string]string{"io1": "127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s: the failed start was not noticed", time.Since(start))
	}
	if err := <-served; err == nil {
		t.Fatal("ServeHosted returned no error")
	}
}
