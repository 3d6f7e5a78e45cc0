package loopback

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

func TestScratchCloseRemovesDirAndIsIdempotent(t *testing.T) {
	t.Parallel()
	s, err := NewScratch()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(filepath.Base(s.Dir), "wslb-verify-"))
	p, err := s.WriteFile("sub/a.conf", []byte("x"))
	require.NoError(t, err)
	require.FileExists(t, p)
	_, err = s.WriteFile("../escape", []byte("x"))
	require.Error(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	require.NoDirExists(t, s.Dir)
}

func TestFreePortsAreDistinctAndOutsideTheEphemeralRange(t *testing.T) {
	t.Parallel()
	ports, err := FreePorts(50)
	require.NoError(t, err)
	seen := map[int]bool{}
	low := ephemeralLow()
	for _, p := range ports {
		require.False(t, seen[p], "port %d handed out twice", p)
		seen[p] = true
		if low-lowestPort >= 1000 {
			require.GreaterOrEqual(t, p, lowestPort)
			require.Less(t, p, low, "outgoing connections could take port %d", p)
		}
	}
}

// dialEcho opens a WebSocket to addr and returns the connection and the
// backend id from the handshake response.
func dialEcho(t *testing.T, addr, path string) (*websocket.Conn, string) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial("ws://"+addr+path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, resp.Header.Get(echo.HeaderBackendID)
}

// roundTrip sends msg and returns the backend that echoed it.
func roundTrip(c *websocket.Conn, msg string) (string, error) {
	_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		return "", err
	}
	_, b, err := c.ReadMessage()
	if err != nil {
		return "", err
	}
	var env echo.Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return "", err
	}
	if env.Echo != msg {
		return "", fmt.Errorf("echoed %q, sent %q", env.Echo, msg)
	}
	return env.Backend, nil
}

func TestBackendsStopAndStartOnSamePort(t *testing.T) {
	t.Parallel()
	b, err := StartBackends([]string{"s1", "s2"}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	require.Equal(t, []string{"s1", "s2"}, b.IDs())
	port := b.Port("s1")
	require.NotZero(t, port)
	id, ok := b.IDByAddr(b.Addr("s2"))
	require.True(t, ok)
	require.Equal(t, "s2", id)

	c, hdr := dialEcho(t, b.Addr("s1"), "/ws")
	require.Equal(t, "s1", hdr)
	got, err := roundTrip(c, "hello")
	require.NoError(t, err)
	require.Equal(t, "s1", got)

	// Reading runs concurrently with Stop so the echo server's close frame
	// is answered, as a real client would.
	closed := make(chan error, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := c.ReadMessage()
		closed <- err
	}()
	require.NoError(t, b.Stop(context.Background(), "s1"))
	require.False(t, b.Running("s1"))
	require.True(t, websocket.IsCloseError(<-closed, websocket.CloseGoingAway))
	_, err = net.DialTimeout("tcp", b.Addr("s1"), time.Second)
	require.Error(t, err, "a stopped backend must refuse connections")
	require.NoError(t, b.Stop(context.Background(), "s1"), "stopping twice is a no-op")

	require.NoError(t, b.Start(context.Background(), "s1"))
	require.Equal(t, port, b.Port("s1"))
	c2, hdr := dialEcho(t, b.Addr("s1"), "/")
	require.Equal(t, "s1", hdr)
	_, err = roundTrip(c2, "again")
	require.NoError(t, err)

	require.NoError(t, b.Kill("s2"))
	_, err = net.DialTimeout("tcp", b.Addr("s2"), time.Second)
	require.Error(t, err)
	require.NoError(t, b.Close())
	require.NoError(t, b.Close())
}

func TestParseShowProc(t *testing.T) {
	t.Parallel()
	out := `#<PID>          <type>          <reloads>       <uptime>        <version>
11197           master          2 [failed: 1]   0d00h00m06s     2.6.12-1+deb12u4
# workers
11326           worker          1               0d00h00m02s     2.6.12-1+deb12u4
# old workers
11200           worker          2               0d00h00m06s     2.6.12-1+deb12u4
# programs
`
	got, err := parseShowProc(strings.NewReader(out))
	require.NoError(t, err)
	require.Equal(t, procTable{reloads: 2, failed: 1, workers: []int{11326}}, got)
	_, err = parseShowProc(strings.NewReader("Unknown command\n"))
	require.Error(t, err)
}

func TestParseServersState(t *testing.T) {
	t.Parallel()
	out := `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 realtime 1 ws1 127.0.0.1 0 0 1 1 2 8 2 0 6 0 0 0 - 40001 - 0 0 - - 0
3 realtime 2 ws2 127.0.0.1 2 0 1 1 9 15 3 4 6 0 0 0 - 40002 - 0 0 - - 0
3 realtime 3 ws3 127.0.0.1 1 0 1 1 1 15 3 1 6 0 0 0 - 40003 - 0 0 - - 0
3 realtime 4 ws4 127.0.0.1 2 0 1 1 0 1 0 2 6 0 0 0 - 40004 - 0 0 - - 0
3 realtime 5 ws5 127.0.0.1 2 0 1 1 0 2 0 2 7 0 0 0 - 40005 - 0 0 - - 0
3 realtime 6 ws6 127.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 40006 - 0 0 - - 0
3 realtime 7 ws7 127.0.0.1 0 5 1 1 0 1 0 0 14 0 0 0 - 40007 - 0 0 - - 0

`
	got, err := parseServersState(strings.NewReader(out))
	require.NoError(t, err)
	require.Equal(t, []ServerState{
		{Backend: "realtime", Name: "ws1", Addr: "127.0.0.1:40001", Up: false},
		{Backend: "realtime", Name: "ws2", Addr: "127.0.0.1:40002", Up: true},
		{Backend: "realtime", Name: "ws3", Addr: "127.0.0.1:40003", Up: false}, // starting
		// Up before its first check (INI), and while it runs (START).
		{Backend: "realtime", Name: "ws4", Addr: "127.0.0.1:40004", Up: true, Pending: true},
		{Backend: "realtime", Name: "ws5", Addr: "127.0.0.1:40005", Up: true, Pending: true},
		{Backend: "realtime", Name: "ws6", Addr: "127.0.0.1:40006", Up: true}, // not checked
		{Backend: "realtime", Name: "ws7", Addr: "127.0.0.1:40007", Maint: true},
	}, got)
	_, err = parseServersState(strings.NewReader("Unknown command\n"))
	require.Error(t, err)
}

const haproxyTestConfig = `global
    hard-stop-after 30s
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout tunnel 1h
frontend fe
    bind 127.0.0.1:{{PORT}}
    default_backend be
backend be
    balance source
    http-response set-header X-Wslb-Server %[srv_name]
    server s1 {{s1}}
    server s2 {{s2}}
`

const nginxTestConfig = `worker_processes 2;
worker_shutdown_timeout 30s;
error_log error.log;
pid nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path tmp/client;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    upstream be {
        hash $remote_addr consistent;
        server {{s1}};
        server {{s2}};
    }
    server {
        listen 127.0.0.1:{{PORT}};
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1h;
            add_header X-Wslb-Server $upstream_addr always;
        }
    }
}
`

type testRun struct {
	scratch  *Scratch
	backends *Backends
	config   string
	addr     string
}

// setup starts two echo backends and writes config (with {{PORT}}, {{s1}},
// {{s2}} filled in) to a fresh scratch dir.
func setup(t *testing.T, kind proxybin.Kind, tmpl string) testRun {
	t.Helper()
	testutil.NeedProxy(t, kind)
	s, err := NewScratch()
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	b, err := StartBackends([]string{"s1", "s2"}, nil)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	port, err := FreePort()
	require.NoError(t, err)
	text := strings.NewReplacer("{{PORT}}", strconv.Itoa(port), "{{s1}}", b.Addr("s1"), "{{s2}}", b.Addr("s2")).Replace(tmpl)
	cfg, err := s.WriteFile(string(kind)+".cfg", []byte(text))
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(s.Path("tmp"), 0o755))
	return testRun{scratch: s, backends: b, config: cfg, addr: "127.0.0.1:" + strconv.Itoa(port)}
}

func requireGone(t *testing.T, pids []int, dir string) {
	t.Helper()
	for _, pid := range pids {
		require.False(t, ProcessAlive(pid), "process %d still running", pid)
	}
	if dir != "" {
		require.NoDirExists(t, dir)
	}
}

// options are the ProxyOptions that start kind on r's config and address.
func (r testRun) options(kind proxybin.Kind) ProxyOptions {
	return ProxyOptions{Kind: kind, Config: r.config, Dir: r.scratch.Dir, ReadyAddr: r.addr}
}

// proxyProcesses lists the live (not zombie) processes running r's config.
func (r testRun) proxyProcesses() []int {
	return processes(func(st procStat) bool {
		return strings.Contains(cmdline(st.pid), r.config) && st.state != 'Z'
	})
}

// allGone reports whether none of pids is running any more.
func allGone(pids []int) bool {
	for _, pid := range pids {
		if ProcessAlive(pid) {
			return false
		}
	}
	return true
}

type proxyCase struct {
	kind proxybin.Kind
	tmpl string
}

var proxyCases = []proxyCase{
	{proxybin.HAProxy, haproxyTestConfig},
	{proxybin.Nginx, nginxTestConfig},
}

// forEachProxy runs test in parallel for each proxy kind, on a fresh setup
// whose config is the kind's template followed by extra.
func forEachProxy(t *testing.T, extra string, test func(t *testing.T, tc proxyCase, r testRun)) {
	t.Helper()
	for _, tc := range proxyCases {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			test(t, tc, setup(t, tc.kind, tc.tmpl+extra))
		})
	}
}

func TestProxyLifecycle(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "", func(t *testing.T, tc proxyCase, r testRun) {
		ctx := context.Background()
		p, err := StartProxy(ctx, ProxyOptions{Kind: tc.kind, Config: r.config, Dir: r.scratch.Dir, ReadyAddr: r.addr, ReadyPath: "/healthz"})
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		require.Equal(t, r.addr, p.Addr())

		// A WebSocket through the proxy reaches a backend.
		held, hdr := dialEcho(t, r.addr, "/ws")
		first, err := roundTrip(held, "before reload")
		require.NoError(t, err)
		require.Equal(t, hdr, first)
		require.Contains(t, []string{"s1", "s2"}, first)

		// HAProxy's own view of its servers, from the runtime API.
		states, err := p.ServerStates(ctx)
		if tc.kind == proxybin.HAProxy {
			require.NoError(t, err)
			require.Len(t, states, 2)
			for _, st := range states {
				require.Contains(t, []string{r.backends.Addr("s1"), r.backends.Addr("s2")}, st.Addr)
				require.True(t, st.Up, "%+v", st)
			}
		} else {
			require.ErrorIs(t, err, ErrNoServerState)
		}

		workersBefore := p.Workers()
		require.NotEmpty(t, workersBefore)
		require.NoError(t, p.Reload(ctx))
		workersAfter := p.Workers()
		fresh := 0
		for _, w := range workersAfter {
			if !slices.Contains(workersBefore, w) {
				fresh++
			}
		}
		require.Positive(t, fresh, "reload must start new workers (before %v, after %v)", workersBefore, workersAfter)

		// The connection opened before the reload still echoes, and
		// a new one works.
		got, err := roundTrip(held, "after reload")
		require.NoError(t, err)
		require.Equal(t, first, got)
		c2, _ := dialEcho(t, r.addr, "/ws")
		_, err = roundTrip(c2, "new")
		require.NoError(t, err)

		// Stopping the backend that serves the held connection ends it.
		require.NoError(t, r.backends.Stop(ctx, first))
		_ = held.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err = held.ReadMessage()
		require.Error(t, err)

		pids := p.Pids()
		require.Contains(t, pids, p.Pid())
		require.NoError(t, p.Close())
		require.NoError(t, p.Close(), "Close is idempotent")
		<-p.Exited()
		require.NoError(t, r.backends.Close())
		require.NoError(t, r.scratch.Close())
		requireGone(t, append(pids, workersBefore...), r.scratch.Dir)
	})
}

func TestProxyContextCancelTearsDown(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "", func(t *testing.T, tc proxyCase, r testRun) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		p, err := StartProxy(ctx, r.options(tc.kind))
		require.NoError(t, err)
		c, _ := dialEcho(t, r.addr, "/")
		_, err = roundTrip(c, "x")
		require.NoError(t, err)
		pids := p.Pids()
		require.GreaterOrEqual(t, len(pids), 2, "master and at least one worker")

		cancel() // as SIGINT does in the CLI
		select {
		case <-p.Exited():
		case <-time.After(15 * time.Second):
			t.Fatal("proxy still running after the context was cancelled")
		}
		require.ErrorIs(t, p.Reload(context.Background()), errNotRunning)
		env := &Env{Scratch: r.scratch, Backends: r.backends, Proxy: p}
		require.NoError(t, env.Close())
		require.NoError(t, env.Close())
		requireGone(t, pids, r.scratch.Dir)
	})
}

func TestProxyStartFailureShowsLogAndLeavesNothing(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "\nbogus_directive_here 1;\n", func(t *testing.T, tc proxyCase, r testRun) {
		_, err := StartProxy(context.Background(), ProxyOptions{Kind: tc.kind, Config: r.config, Dir: r.scratch.Dir, ReadyAddr: r.addr, ReadyTimeout: 5 * time.Second})
		require.Error(t, err)
		require.Contains(t, err.Error(), "bogus_directive_here", "the error carries the proxy's own message")
		require.Empty(t, r.proxyProcesses())
	})
}

func TestProxyReloadWithBrokenConfigFailsAndKeepsServing(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "", func(t *testing.T, tc proxyCase, r testRun) {
		p, err := StartProxy(context.Background(), r.options(tc.kind))
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })

		f, err := os.OpenFile(r.config, os.O_APPEND|os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteString("\nbogus_directive_here 1;\n")
		require.NoError(t, err)
		require.NoError(t, f.Close())

		err = p.Reload(context.Background())
		require.ErrorContains(t, err, "rejected")
		c, _ := dialEcho(t, r.addr, "/")
		_, err = roundTrip(c, "still here")
		require.NoError(t, err)
	})
}

func TestProbeRequiresHTTPAnswer(t *testing.T) {
	t.Parallel()
	// A listener that accepts but never answers HTTP is not ready when a
	// ReadyPath is asked for.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	p := &Proxy{opts: ProxyOptions{ReadyAddr: ln.Addr().String()}}
	require.NoError(t, p.probe(context.Background()))
	p.opts.ReadyPath = "/healthz"
	require.Error(t, p.probe(context.Background()))

	srv := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) })}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln2)
	defer srv.Close()
	p.opts.ReadyAddr = ln2.Addr().String()
	require.ErrorContains(t, p.probe(context.Background()), "503")
}

// helperEnv makes the test binary act as a wslb that starts a proxy, prints
// the proxy's pids and waits to be killed.
const helperEnv = "WSLB_RUNTIME_TEST_HELPER"

func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process for TestKilledParentLeavesNoProxy")
	}
	f := strings.SplitN(spec, "|", 4)
	p, err := StartProxy(context.Background(), ProxyOptions{Kind: proxybin.Kind(f[0]), Config: f[1], Dir: f[2], ReadyAddr: f[3]})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	pids := p.Pids()
	for len(pids) < 2 { // wait for the workers
		time.Sleep(10 * time.Millisecond)
		pids = p.Pids()
	}
	fmt.Println("PIDS", strings.Trim(fmt.Sprint(pids), "[]"))
	time.Sleep(time.Minute)
	os.Exit(2)
}

func TestKilledParentLeavesNoProxy(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "", func(t *testing.T, tc proxyCase, r testRun) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join([]string{string(tc.kind), r.config, r.scratch.Dir, r.addr}, "|"))
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

		line, err := bufio.NewReader(out).ReadString('\n')
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(line, "PIDS "), line)
		var pids []int
		for _, f := range strings.Fields(strings.TrimPrefix(line, "PIDS ")) {
			pid, err := strconv.Atoi(f)
			require.NoError(t, err)
			pids = append(pids, pid)
		}
		require.GreaterOrEqual(t, len(pids), 2)

		require.NoError(t, cmd.Process.Kill()) // no chance to tear down
		_ = cmd.Wait()
		require.Eventually(t, func() bool { return allGone(pids) }, 10*time.Second, 20*time.Millisecond, "proxy processes %v outlived their killed parent", pids)
	})
}

func TestStartFailsWhenAnotherProgramHoldsThePort(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "", func(t *testing.T, tc proxyCase, r testRun) {
		// A stranger answers HTTP on the proxy's port: the probe
		// succeeds, but the listener is not the proxy's.
		ln, err := net.Listen("tcp", r.addr)
		require.NoError(t, err)
		srv := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})}
		go srv.Serve(ln)
		defer srv.Close()
		// nginx retries bind for a few seconds before it exits; the
		// timeout only guards against a hang, so that a loaded machine
		// cannot turn the refusal into "not ready".
		_, err = StartProxy(context.Background(), ProxyOptions{Kind: tc.kind, Config: r.config, Dir: r.scratch.Dir, ReadyAddr: r.addr, ReadyPath: "/healthz", ReadyTimeout: 2 * time.Minute})
		require.ErrorIs(t, err, ErrAddrInUse)
	})
}

func TestListenerOwned(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	require.True(t, listenerOwned(ln.Addr().String(), []int{os.Getpid()}))
	require.False(t, listenerOwned(ln.Addr().String(), []int{1}))
	port, err := FreePort()
	require.NoError(t, err)
	require.False(t, listenerOwned("127.0.0.1:"+strconv.Itoa(port), []int{os.Getpid()}))
}

// HAProxy counts a checked server up before its first check and takes it
// down at the first that fails: a server's state is settled only once a
// check result is in (Pending false), which a caller can wait for.
func TestServerStatesSettleWithTheFirstCheck(t *testing.T) {
	t.Parallel()
	r := setup(t, proxybin.HAProxy, strings.Replace(haproxyTestConfig, `    server s1 {{s1}}
    server s2 {{s2}}
`, `    option httpchk GET /healthz
    timeout check 1s
    server s1 {{s1}} check inter 50ms rise 2 fall 3
    server s2 {{s2}}
    server s3 {{s2}} check disabled
`, 1))
	ctx := context.Background()
	// s1's first check finds nothing listening.
	require.NoError(t, r.backends.Stop(ctx, "s1"))
	p, err := StartProxy(ctx, ProxyOptions{Kind: proxybin.HAProxy, Config: r.config, Dir: r.scratch.Dir, ReadyAddr: r.addr})
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })

	// The master CLI refuses for a moment while the master re-executes
	// itself after forking the worker: an error is asked again.
	waitFor := func(what string, ok func(s1 ServerState) bool) map[string]ServerState {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			states, err := p.ServerStates(ctx)
			m := map[string]ServerState{}
			for _, st := range states {
				m[st.Name] = st
			}
			if err == nil && ok(m["s1"]) {
				require.Len(t, m, 3)
				return m
			}
			require.True(t, time.Now().Before(deadline), "s1 never %s: %+v, %v", what, m["s1"], err)
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Down with a result in: its first check failed.
	m := waitFor("down after a check", func(st ServerState) bool { return !st.Up && !st.Pending })
	require.Equal(t, ServerState{Backend: "be", Name: "s2", Addr: r.backends.Addr("s2"), Up: true}, m["s2"], "not checked: never pending")
	require.True(t, m["s3"].Maint, "%+v", m["s3"])
	require.False(t, m["s3"].Up, "%+v", m["s3"])

	require.NoError(t, r.backends.Start(ctx, "s1"))
	waitFor("up after its checks", func(st ServerState) bool { return st.Up && !st.Pending })
}

func TestProxyCrashIsNoticed(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "", func(t *testing.T, tc proxyCase, r testRun) {
		p, err := StartProxy(context.Background(), r.options(tc.kind))
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		pids := p.Pids()
		_, _, died := p.Died()
		require.False(t, died, "a running proxy has not died")
		require.NoError(t, syscall.Kill(p.Pid(), syscall.SIGSTOP))
		// The bounds below only guard against a hang: each wait ends
		// as soon as the state is seen, however busy the machine.
		require.Eventually(t, p.Stopped, 30*time.Second, 20*time.Millisecond)
		killed := time.Now()
		require.NoError(t, syscall.Kill(p.Pid(), syscall.SIGKILL))
		select {
		case <-p.Exited():
		case <-time.After(30 * time.Second):
			t.Fatal("a killed master went unnoticed")
		}
		require.Error(t, p.Err())
		at, status, died := p.Died()
		require.True(t, died, "an exit Close did not cause is a death")
		require.False(t, at.Before(killed))
		require.ErrorContains(t, status, "killed")
		require.Eventually(t, func() bool { return allGone(pids) }, 30*time.Second, 20*time.Millisecond, "workers of a killed master must not survive")
		require.NoError(t, p.Close())
	})
}

// An exit Close causes is no death.
func TestClosedProxyDidNotDie(t *testing.T) {
	t.Parallel()
	tc := proxyCases[0]
	testutil.NeedProxy(t, tc.kind)
	r := setup(t, tc.kind, tc.tmpl)
	p, err := StartProxy(context.Background(), r.options(tc.kind))
	require.NoError(t, err)
	require.NoError(t, p.Close())
	_, _, died := p.Died()
	require.False(t, died)
}

func TestProxyStartWithCancelledContextLeavesNothing(t *testing.T) {
	t.Parallel()
	forEachProxy(t, "", func(t *testing.T, tc proxyCase, r testRun) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		// A proxy that is not serving yet has nothing to drain: it is
		// killed, not given StopGrace to stop (the master, as a PID
		// namespace's init, ignores SIGTERM until it handles it).
		p, err := StartProxy(ctx, ProxyOptions{Kind: tc.kind, Config: r.config, Dir: r.scratch.Dir, ReadyAddr: r.addr, StopGrace: time.Minute})
		require.ErrorIs(t, err, context.Canceled)
		require.Nil(t, p)
		require.Less(t, time.Since(start), 30*time.Second, "StartProxy waited for StopGrace")
		require.Empty(t, r.proxyProcesses())
	})
}
