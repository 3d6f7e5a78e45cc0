package netns_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/driver/netns"
)

// needNetns skips where the driver cannot run (not root); CI runs as
// root, so there it runs.
func needNetns(t *testing.T) {
	t.Helper()
	if err := netns.Check(driver.Needs{}); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the netns driver must run in CI: %v", err)
		}
		t.Skipf("netns driver unavailable: %v", err)
	}
}

// namespaces lists the named network namespaces of this process's runs.
func namespaces(t *testing.T) []string {
	t.Helper()
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), fmt.Sprintf("wslb-%d-", os.Getpid())) {
			out = append(out, e.Name())
		}
	}
	return out
}

func open(t *testing.T) driver.Env {
	t.Helper()
	env, err := netns.Open(context.Background(), driver.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { env.Close() })
	return env
}

// get asks addr for / from client i's host and source address and
// returns the backend that answered.
func get(ctx context.Context, env driver.Env, src netip.Addr, addr string) (string, error) {
	d := &net.Dialer{Timeout: time.Second}
	if src.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	client := http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
			return env.Clients().Dial(ctx, d, network, a)
		}}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("X-Backend-Id"), nil
}

// Each backend is a process in a host of its own, reachable from the
// client hosts across the bridge and from the clients' own addresses;
// pause freezes it, kill kills it, and Close leaves no namespace and no
// process.
func TestBackendsAreHostsOfTheirOwn(t *testing.T) {
	needNetns(t)
	ctx := context.Background()
	env := open(t)
	require.Equal(t, "netns", env.Driver())
	requireVethsUp(t)
	b, err := env.StartBackends(ctx, driver.BackendSpec{IDs: []string{"ws1", "ws2"}, Echo: true})
	require.NoError(t, err)
	require.NotEqual(t, b.Addr("ws1"), b.Addr("ws2"))
	requireVethsUp(t)
	for _, id := range b.IDs() {
		a := netip.MustParseAddrPort(b.Addr(id))
		require.True(t, env.Clients().Local(a.Addr()), "%s is in the run's network", a)
		require.False(t, a.Addr().IsLoopback())
	}

	// Sources of neighbouring clients differ in their /24 and sit on
	// several client hosts.
	seen24 := map[[3]byte]bool{}
	for i := range 8 {
		src, err := env.Clients().Source(i)
		require.NoError(t, err)
		a := src.As4()
		seen24[[3]byte{a[0], a[1], a[2]}] = true
		id, err := get(ctx, env, src, b.Addr("ws1"))
		require.NoError(t, err, "from %s", src)
		require.Equal(t, "ws1", id)
	}
	require.Len(t, seen24, 8)

	pid := b.(*netns.Backends).Pid("ws2")
	require.NotZero(t, pid)
	require.NoError(t, b.Pause(ctx, "ws2"))
	require.Equal(t, "T", procState(pid), "SIGSTOP")
	require.False(t, b.Running("ws2"), "a paused backend serves nothing")
	_, err = get(ctx, env, netip.Addr{}, b.Addr("ws2"))
	require.Error(t, err, "a paused backend answers nothing")
	require.NoError(t, b.Resume(ctx, "ws2"))
	require.True(t, b.Running("ws2"))
	id, err := get(ctx, env, netip.Addr{}, b.Addr("ws2"))
	require.NoError(t, err)
	require.Equal(t, "ws2", id)

	require.NoError(t, b.Kill("ws2"))
	require.Empty(t, procState(pid), "killed for real")
	require.False(t, b.Running("ws2"))
	require.NoError(t, b.Start(ctx, "ws2"))
	id, err = get(ctx, env, netip.Addr{}, b.Addr("ws2"))
	require.NoError(t, err)
	require.Equal(t, "ws2", id, "back on the same address")

	pids := []int{b.(*netns.Backends).Pid("ws1"), b.(*netns.Backends).Pid("ws2")}
	require.NotEmpty(t, namespaces(t))
	require.NoError(t, env.Close())
	require.Empty(t, namespaces(t), "Close removes every namespace")
	for _, p := range pids {
		require.Empty(t, procState(p), "Close kills every backend")
	}
}

// requireVethsUp checks that every veth of this process's runs carries
// traffic already (operationally up), not only set up: a packet sent
// before is dropped.
func requireVethsUp(t *testing.T) {
	t.Helper()
	for _, ns := range namespaces(t) {
		out, err := exec.Command("ip", "-n", ns, "-o", "link", "show").CombinedOutput()
		require.NoError(t, err, "%s", out)
		veths := 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(line); len(f) > 1 && (strings.HasPrefix(f[1], "eth0@") || strings.HasPrefix(f[1], "v-")) {
				veths++
				require.Contains(t, line, "state UP", "in %s", ns)
			}
		}
		require.Positive(t, veths, "%s: %s", ns, out)
	}
}

// procState is the state letter of pid ("" when it is gone or a zombie).
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) == 0 || f[0] == "Z" {
		return ""
	}
	return f[0]
}

// orphanEnv makes this test binary open a run, start a backend, say so
// and wait to be killed.
const orphanEnv = "WSLB_NETNS_TEST_ORPHAN"

func TestMain(m *testing.M) {
	if os.Getenv(orphanEnv) != "" {
		env, err := netns.Open(context.Background(), driver.Options{})
		if err == nil {
			b, err2 := env.StartBackends(context.Background(), driver.BackendSpec{IDs: []string{"ws1"}, Echo: true})
			if err = err2; err == nil {
				fmt.Printf("ready %d\n", b.(*netns.Backends).Pid("ws1"))
			}
		}
		if err != nil {
			fmt.Println("error", err)
		}
		time.Sleep(time.Minute)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// A run killed with SIGKILL cannot tear down: its backends die with it
// (parent-death signal), its namespaces stay until Cleanup removes them.
func TestCleanupAfterSIGKILL(t *testing.T) {
	needNetns(t)
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), orphanEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	var backend int
	_, err = fmt.Sscanf(line, "ready %d", &backend)
	require.NoError(t, err, line)
	prefix := fmt.Sprintf("wslb-%d-", cmd.Process.Pid)
	left := func() []string {
		entries, _ := os.ReadDir("/run/netns")
		var out []string
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				out = append(out, e.Name())
			}
		}
		return out
	}
	require.NotEmpty(t, left())

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_, _ = io.Copy(io.Discard, out)
	_ = cmd.Wait()
	require.NotEmpty(t, left(), "a killed run leaves its namespaces")

	removed, err := netns.Cleanup(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, removed)
	require.Empty(t, left(), "cleanup removes them")
	require.Eventually(t, func() bool { return procState(backend) == "" }, 5*time.Second, 20*time.Millisecond,
		"no backend process is left")
	_, err = os.Stat(filepath.Join("/run/netns", prefix+"sw"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
