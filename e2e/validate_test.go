package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/testutil"
)

// writeBigHAProxy writes an HAProxy config of about size bytes: many
// backends with distinct servers, so that linting it takes long.
func writeBigHAProxy(t *testing.T, path string, size int) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	n, _ := fmt.Fprint(w, "global\n    hard-stop-after 30s\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    timeout tunnel 1h\nfrontend fe\n    bind :8080\n    default_backend be0\n")
	for i := 0; n < size; i++ {
		m, _ := fmt.Fprintf(w, "backend be%d\n    balance source\n    hash-type consistent\n", i)
		n += m
		for j := 0; j < 8; j++ {
			m, _ = fmt.Fprintf(w, "    server s%d_%d 10.%d.%d.%d:8080 check\n", i, j, i>>16&255, i>>8&255, i&255)
			n += m
		}
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

// writeBigNginx writes an NGINX config of about size bytes: many
// upstreams and servers.
func writeBigNginx(t *testing.T, path string, size int) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	n, _ := fmt.Fprint(w, "events { worker_connections 16384; }\nhttp {\n")
	for i := 0; n < size; i++ {
		m, _ := fmt.Fprintf(w, "    upstream app%d {\n        hash $cookie_sid consistent;\n        server 10.0.%d.1:3000;\n        server 10.0.%d.2:3000;\n    }\n"+
			"    server {\n        listen %d;\n        location /ws%d {\n            proxy_pass http://app%d;\n            proxy_read_timeout 1h;\n        }\n    }\n",
			i, i%250, i%250, 10000+i%50000, i, i)
		n += m
	}
	fmt.Fprint(w, "}\n")
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
}

// validate stops inside one huge file on SIGINT and SIGTERM: 128+signal,
// no results printed, long before the lint would have finished. The files
// stay under the 16 MiB read limit.
func TestValidateInterruptedInsideHugeFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ha, ng := filepath.Join(dir, "big.haproxy.cfg"), filepath.Join(dir, "big.nginx.conf")
	writeBigHAProxy(t, ha, 15<<20)
	writeBigNginx(t, ng, 15<<20)
	for _, tc := range []struct {
		cfg  string
		sig  syscall.Signal
		code int
	}{{ha, syscall.SIGINT, 130}, {ha, syscall.SIGTERM, 143}, {ng, syscall.SIGINT, 130}, {ng, syscall.SIGTERM, 143}} {
		t.Run(filepath.Base(tc.cfg)+"/"+tc.sig.String(), func(t *testing.T) {
			r := start(t, "validate", tc.cfg)
			// Once wslb has read the config it handles signals and lints
			// for seconds more; a signal sent earlier could hit a process
			// still starting on a loaded machine.
			waitRead(t, r, 15<<20, time.Minute)
			sent := time.Now()
			require.NoError(t, r.cmd.Process.Signal(tc.sig))
			code := r.wait(t, 30*time.Second)
			took := time.Since(sent)
			t.Logf("%s: exited %d, %s after the signal", tc.sig, code, took)
			require.Equal(t, tc.code, code, "stderr:\n%s", r.stderr.String())
			require.Empty(t, r.stdout.String(), "no partial results")
			require.Contains(t, r.stderr.String(), "no results were printed")
		})
	}
}

// waitRead waits until r's process has read at least n bytes (rchar in
// /proc/PID/io).
func waitRead(t *testing.T, r *run, n int64, limit time.Duration) {
	t.Helper()
	stats := filepath.Join("/proc", strconv.Itoa(r.cmd.Process.Pid), "io")
	deadline := time.After(limit)
	for {
		b, _ := os.ReadFile(stats)
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "rchar: "); ok {
				if read, _ := strconv.ParseInt(v, 10, 64); read >= n {
					return
				}
			}
		}
		select {
		case <-r.done:
			t.Fatalf("wslb exited before reading %d bytes\nstderr:\n%s", n, r.stderr.String())
		case <-deadline:
			t.Fatalf("wslb did not read %d bytes within %s", n, limit)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// --timeout stops a run that takes longer, exit 124.
func TestValidateTimeout(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "big.haproxy.cfg")
	writeBigHAProxy(t, cfg, 15<<20)
	r := start(t, "validate", cfg, "--timeout", "1s")
	code := r.wait(t, 60*time.Second)
	require.Equal(t, 124, code, "stderr:\n%s", r.stderr.String())
	require.Empty(t, r.stdout.String())
	require.Contains(t, r.stderr.String(), "did not finish within --timeout 1s")
}

// A signal during --exec kills the checker and removes the scratch dir.
// The checker here is a stand-in haproxy that never finishes its check.
func TestValidateExecInterruptedKillsChecker(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake := filepath.Join(dir, "haproxy")
	testutil.WriteExecutable(t, fake, []byte("#!/bin/sh\ncase \"$1\" in -v) echo 'HAProxy version 2.6.12 2023/01/01'; exit 0;; esac\nexec sleep 300\n"))
	cfg := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte("global\ndefaults\n    mode http\nfrontend fe\n    bind :8080\n    default_backend be\nbackend be\n    server s1 app.example:80 check\n"), 0o644))
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			r := startEnv(t, []string{"WSLB_HAPROXY=" + fake}, "validate", "--exec", cfg)
			r.waitFor(t, "sleep 300", 30*time.Second)
			left, err := filepath.Glob(filepath.Join(r.tmp, "wslb-exec-*"))
			require.NoError(t, err)
			require.Len(t, left, 1, "the check runs on a scratch copy")
			require.NoError(t, r.cmd.Process.Signal(tc.sig))
			code := r.wait(t, 30*time.Second)
			require.Equal(t, tc.code, code, "stderr:\n%s", r.stderr.String())
			require.Empty(t, r.stdout.String())
			r.requireClean(t, "sleep 300")
			require.False(t, strings.Contains(r.stderr.String(), "panic"))
		})
	}
}
