// Package testutil holds test plumbing shared by several packages' tests:
// skipping runs that need a real proxy, helper child processes, echo
// backends in another process, and one-shot benchmarks.
package testutil

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/internal/proxybin"
)

// RequireProxiesEnv, set to 1 (as .ci/run does), turns every "proxy not
// installed" skip into a failure, so no end-to-end test skips silently in CI.
const RequireProxiesEnv = "WSLB_REQUIRE_PROXIES"

// NeedProxy returns the proxy binary of kind. It skips the test with
// -short, and when the binary is not installed (naming the install
// command) — unless $WSLB_REQUIRE_PROXIES=1, where a missing binary fails.
func NeedProxy(tb testing.TB, kind proxybin.Kind) proxybin.Binary {
	tb.Helper()
	return needBinary(tb, string(kind), func() (proxybin.Binary, error) { return proxybin.Lookup(kind) })
}

// needBinary is NeedProxy and NeedProxyVersion: what names the binary
// find looks for, in the skip or failure.
func needBinary(tb testing.TB, what string, find func() (proxybin.Binary, error)) proxybin.Binary {
	tb.Helper()
	if testing.Short() {
		tb.Skip("end-to-end run with a real proxy; skipped with -short")
	}
	bin, err := find()
	var nf *proxybin.NotFoundError
	if errors.As(err, &nf) {
		if os.Getenv(RequireProxiesEnv) == "1" {
			tb.Fatalf("%s is required ($%s=1) but missing: %v", what, RequireProxiesEnv, err)
		}
		tb.Skipf("%s is missing (%s)", what, nf.InstallHint())
	}
	require.NoError(tb, err)
	return bin
}

// SupportedVersions are the proxy versions wslb is tested against: Debian
// 12's (installed with apt) and those `make proxies` builds from trixie and
// sid (see docs/proxies.md). Tests that run "every version" run these.
var SupportedVersions = map[proxybin.Kind][]string{
	proxybin.HAProxy: {"2.6", "3.0", "3.2"},
	proxybin.Nginx:   {"1.22", "1.26", "1.30"},
}

// NeedProxyVersion returns the binary of kind whose version is version
// (MAJOR.MINOR). Like NeedProxy it skips with -short, and when the version
// is missing (naming `make proxies`) unless $WSLB_REQUIRE_PROXIES=1, where
// it fails.
func NeedProxyVersion(tb testing.TB, kind proxybin.Kind, version string) proxybin.Binary {
	tb.Helper()
	return needBinary(tb, string(kind)+" "+version, func() (proxybin.Binary, error) {
		return proxybin.Find(kind, proxybin.Want{Version: version})
	})
}

// EachProxyVersion runs test once per supported version of every proxy
// kind, in parallel subtests named after both ("haproxy-3.0");
// NeedProxyVersion skips (or, in CI, fails) those that are missing.
func EachProxyVersion(t *testing.T, test func(t *testing.T, bin proxybin.Binary)) {
	for _, kind := range proxybin.Kinds {
		EachVersionOf(t, kind, test)
	}
}

// EachVersionOf is EachProxyVersion for one proxy kind.
func EachVersionOf(t *testing.T, kind proxybin.Kind, test func(t *testing.T, bin proxybin.Binary)) {
	for _, v := range SupportedVersions[kind] {
		t.Run(string(kind)+"-"+v, func(t *testing.T) {
			t.Parallel()
			test(t, NeedProxyVersion(t, kind, v))
		})
	}
}

// EachProxy runs test once per proxy kind, in parallel subtests named
// after it; NeedProxy skips those that cannot run.
func EachProxy(t *testing.T, test func(t *testing.T, kind proxybin.Kind)) {
	for _, kind := range proxybin.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			NeedProxy(t, kind)
			test(t, kind)
		})
	}
}

// RaiseParallel sets -test.parallel to n unless it was given: for tests
// that mostly wait (health checks, reloads, signals), more can run at once
// than there are cores. Call it from TestMain after flag.Parse.
func RaiseParallel(n int) {
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		_ = f.Value.Set(strconv.Itoa(n))
	}
}

// StartHelper runs this test binary again as a child process that runs
// only the test named test, with env added to its environment. The child's
// stdin stays open until tb ends; then the child is killed. It returns the
// child's stdout and pid.
func StartHelper(tb testing.TB, test string, env ...string) (*bufio.Reader, int) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$")
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return bufio.NewReader(stdout), cmd.Process.Pid
}

// echoHelperEnv lists the backend ids a helper child serves.
const echoHelperEnv = "WSLB_HELPER_ECHO"

// ServeEchoBackends is the body of a helper test that StartEchoBackends
// runs in a child process: it serves an echo backend per listed id on a
// free loopback port, prints "ID ADDR" for each, serves until stdin closes
// and exits. Run as an ordinary test, it skips.
func ServeEchoBackends(t *testing.T) {
	ids := os.Getenv(echoHelperEnv)
	if ids == "" {
		t.Skip("helper process for the measurements")
	}
	var srvs []*echo.Server
	for _, id := range strings.Split(ids, ",") {
		srv, err := echo.New(echo.Config{ID: id})
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		go func() { _ = srv.Serve(ln) }()
		srvs = append(srvs, srv)
		fmt.Println(id, ln.Addr())
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
	for _, s := range srvs {
		_ = s.Close()
	}
	os.Exit(0)
}

// StartEchoBackends runs echo backends with the given ids in a child
// process, so that their memory is apart from this process's, and returns
// their addresses by id and the child's pid. helperTest names a test of
// this binary that calls ServeEchoBackends.
func StartEchoBackends(tb testing.TB, helperTest string, ids ...string) (map[string]string, int) {
	tb.Helper()
	out, pid := StartHelper(tb, helperTest, echoHelperEnv+"="+strings.Join(ids, ","))
	addrs := map[string]string{}
	for range ids {
		line, err := out.ReadString('\n')
		require.NoError(tb, err)
		id, addr, ok := strings.Cut(strings.TrimSpace(line), " ")
		require.True(tb, ok, line)
		addrs[id] = addr
	}
	return addrs, pid
}

// BenchOnce runs measure once, for benchmarks whose one measurement
// outlasts the benchmark time (b.Loop stops after it, or ramps through
// empty iterations), and reports no ns/op: measure reports its own metrics.
func BenchOnce(b *testing.B, measure func()) {
	for i := 0; b.Loop(); i++ {
		if i == 0 {
			measure()
		}
	}
	b.ReportMetric(0, "ns/op")
}

// ScratchDir is a temp dir a boxed proxy can use: like t.TempDir, but every
// user may walk to it (the sandbox runs the proxy as an unprivileged user
// when the tests run as root, and t.TempDir's parent is private).
func ScratchDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "wslb-test-")
	require.NoError(tb, err)
	require.NoError(tb, os.Chmod(dir, 0o755))
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// WriteExecutable writes a program file for a test to run. It holds
// syscall.ForkLock while the file is open for writing: a parallel test
// forking in that window would inherit the descriptor, and exec of the
// program would fail with "text file busy" until that child execs.
func WriteExecutable(tb testing.TB, path string, content []byte) {
	tb.Helper()
	syscall.ForkLock.Lock()
	err := os.WriteFile(path, content, 0o755)
	syscall.ForkLock.Unlock()
	require.NoError(tb, err)
}

// DockerProxyImage is the proxy image the docker end-to-end tests run:
// scripts/docker-images imports it from the trixie root filesystem of
// `make proxies`, so it holds HAProxy 3.0 and NGINX 1.26 (DockerProxyVersions).
const DockerProxyImage = "wslb-proxy:trixie"

// DockerProxyVersions are the versions DockerProxyImage holds.
var DockerProxyVersions = map[proxybin.Kind]string{proxybin.HAProxy: "3.0", proxybin.Nginx: "1.26"}

// wslbDockerSocket is the engine scripts/dockerd starts.
const wslbDockerSocket = "/run/wslb-dockerd/docker.sock"

var dockerOnce sync.Once

// NeedDocker makes sure a Docker engine answers and DOCKER_HOST names it
// (set for this process to the engine of scripts/dockerd, else the
// default socket, when unset), and that DockerProxyImage is there. It
// skips the test with -short, and when either is missing (naming the
// command that provides it) — unless $WSLB_REQUIRE_PROXIES=1, where it
// fails: CI starts the engine and builds the image.
func NeedDocker(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("end-to-end run with a Docker engine; skipped with -short")
	}
	dockerOnce.Do(func() {
		if os.Getenv("DOCKER_HOST") != "" {
			return
		}
		for _, sock := range []string{wslbDockerSocket, "/var/run/docker.sock"} {
			if dockerGet(sock, "/_ping") == nil {
				os.Setenv("DOCKER_HOST", "unix://"+sock)
				return
			}
		}
	})
	missing := func(what, hint string) {
		tb.Helper()
		if os.Getenv(RequireProxiesEnv) == "1" {
			tb.Fatalf("%s is required ($%s=1) but missing: %s", what, RequireProxiesEnv, hint)
		}
		tb.Skipf("%s is missing (%s)", what, hint)
	}
	host := os.Getenv("DOCKER_HOST")
	sock, ok := strings.CutPrefix(host, "unix://")
	if !ok || dockerGet(sock, "/_ping") != nil {
		missing("a Docker engine", "scripts/dockerd start, then export the DOCKER_HOST it prints")
		return
	}
	if err := dockerGet(sock, "/images/"+DockerProxyImage+"/json"); err != nil {
		missing("the image "+DockerProxyImage, "make proxies && scripts/docker-images")
	}
}

// NeedDockerCompose is NeedDocker plus docker-compose (v1, Debian 12's
// docker-compose package), which the compose project's tests run.
func NeedDockerCompose(tb testing.TB) {
	tb.Helper()
	NeedDocker(tb)
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if os.Getenv(RequireProxiesEnv) == "1" {
			tb.Fatalf("docker-compose is required ($%s=1) but missing: %v (make docker installs it)", RequireProxiesEnv, err)
		}
		tb.Skipf("docker-compose is missing (make docker installs it)")
	}
}

// dockerGet asks the engine on the unix socket sock for path and wants
// 200.
func dockerGet(sock, path string) error {
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	resp, err := c.Get("http://docker" + path)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// DockerRuntimeImage is the image the docker driver runs brokers and,
// by default, --backend-cmd servers in (Node.js, redis-server,
// nats-server): scripts/docker-images builds it.
const DockerRuntimeImage = "wslb-runtime:bookworm"

// NeedDockerRuntime is NeedDocker, and DockerRuntimeImage on the engine.
func NeedDockerRuntime(tb testing.TB) {
	tb.Helper()
	NeedDocker(tb)
	sock := strings.TrimPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if err := dockerGet(sock, "/images/"+DockerRuntimeImage+"/json"); err != nil {
		if os.Getenv(RequireProxiesEnv) == "1" {
			tb.Fatalf("the image %s is required ($%s=1) but missing: scripts/docker-images (make docker)", DockerRuntimeImage, RequireProxiesEnv)
		}
		tb.Skipf("the image %s is missing (scripts/docker-images, make docker)", DockerRuntimeImage)
	}
}
