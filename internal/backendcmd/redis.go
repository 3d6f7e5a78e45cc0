package backendcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/wslb/wslb/internal/sandbox"
)

// ErrNoRedis is returned when redis-server is not installed.
var ErrNoRedis = errors.New("redis-server not found in PATH or /usr/bin (install it: apt-get install redis-server)")

// Redis is a redis-server on a free loopback port, for backends that share
// state or pub/sub through it (the Socket.IO Redis adapter). It keeps
// nothing on disk and runs in the sandbox like the backends.
type Redis struct {
	Addr string // 127.0.0.1:PORT
	cmd  *sandbox.Cmd
	done chan struct{}
	log  string
}

// URL is the redis:// URL of the server.
func (r *Redis) URL() string { return "redis://" + r.Addr }

// FindRedis locates redis-server.
func FindRedis() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return filepath.Abs(p)
	}
	if _, err := os.Stat("/usr/bin/redis-server"); err == nil {
		return "/usr/bin/redis-server", nil
	}
	return "", ErrNoRedis
}

// StartRedis starts redis-server with its files in dir (which must exist)
// and waits until it answers PING. On error nothing is left running.
func StartRedis(ctx context.Context, dir string) (*Redis, error) {
	bin, err := FindRedis()
	if err != nil {
		return nil, err
	}
	var last error
	for range 3 { // another process may take the port between pick and bind
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		r, err := startRedis(ctx, bin, dir, port)
		if err == nil {
			return r, nil
		}
		last = err
	}
	return nil, last
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redis: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startRedis(ctx context.Context, bin, dir string, port int) (*Redis, error) {
	r := &Redis{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{}), log: filepath.Join(dir, "redis.log")}
	out, err := sandbox.CreateOutput(r.log)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	defer out.Close()
	cmd, err := sandbox.Command(sandbox.Spec{Binary: bin, Dir: dir, SharedNet: true, Args: []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--protected-mode", "yes",
	}})
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redis: start %s: %w", bin, err)
	}
	r.cmd = cmd
	go func() { _ = cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(r.Addr) {
			return r, nil
		}
		select {
		case <-r.done:
			b, _ := os.ReadFile(r.log)
			return nil, fmt.Errorf("redis-server exited at start: %.400s", b)
		case <-ctx.Done():
			r.Close()
			return nil, fmt.Errorf("redis: %w", ctx.Err())
		case <-time.After(readyPoll):
		}
		if time.Now().After(deadline) {
			r.Close()
			return nil, errors.New("redis-server did not answer PING within 10s")
		}
	}
}

// ping reports whether a Redis server answers PING at addr.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Close stops the server (its process group) and waits for it. It is
// idempotent and safe on a nil receiver.
func (r *Redis) Close() error {
	if r == nil || r.cmd == nil {
		return nil
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
	}
	return nil
}
