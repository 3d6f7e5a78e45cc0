package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/echo"
	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/memstat"
	"github.com/wslb/wslb/internal/testutil"
)

// Environment of the measurements (defaults in parentheses).
const (
	envRounds   = "WSLB_BENCH_ROUNDS"   // interleaved rounds (5); the median ratio is reported
	envMessages = "WSLB_BENCH_MESSAGES" // messages per process and round (50,000)
	envHold     = "WSLB_MEASURE_CONNS"  // connections held for RSS (5,000)
	envRole     = "WSLB_BENCH_ROLE"     // set in helper processes
	envAddr     = "WSLB_BENCH_ADDR"
	envCount    = "WSLB_BENCH_COUNT"
)

const (
	benchConns  = 32 // connections in flight per client process
	payloadSize = harness.DefaultMessageSize
)

// The wslb binary the benchmarks run, built on first use into buildDir,
// which TestMain removes.
var (
	buildOnce sync.Once
	buildDir  string
	wslbBin   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// wslbBinary builds cmd/wslb once and returns its path.
func wslbBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "wslb-bench-"); buildErr != nil {
			return
		}
		wslbBin = filepath.Join(buildDir, "wslb")
		if out, err := exec.Command("go", "build", "-o", wslbBin, "github.com/wslb/wslb/cmd/wslb").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building wslb: %v\n%s", err, out)
		}
	})
	require.NoError(tb, buildErr)
	return wslbBin
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestHelperBench is not a test: the benchmarks run this binary again in
// a role (envRole) so that every side is its own process.
func TestHelperBench(t *testing.T) {
	role := os.Getenv(envRole)
	if role == "" {
		t.Skip("helper process for the benchmarks")
	}
	addr, n := os.Getenv(envAddr), envInt(envCount, 1)
	var err error
	switch role {
	case "gorilla-server":
		err = gorillaServer(0)
	case "gorilla-server-sized":
		err = gorillaServer(n)
	case "gorilla-client":
		err = pingPong(addr, benchConns, n/benchConns)
	case "harness-client":
		err = harnessClient(addr, n)
	case "harness-hold":
		err = harnessHold(addr, n)
	case "harness-fanout":
		err = harnessFanout(addr, n)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, role+":", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// gorillaServer is the minimal gorilla echo server a user would write:
// upgrade, then read a message and write it back until the connection ends.
// With replySize > 0 it pads each reply to that many bytes, as long as
// wslb echo's envelope, so that both servers write as much.
func gorillaServer(replySize int) error {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			var out []byte
			for {
				typ, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if len(msg) < replySize {
					out = append(append(out[:0], msg...), padding[:replySize-len(msg)]...)
					msg = out
				}
				if err := c.WriteMessage(typ, msg); err != nil {
					return
				}
			}
		}))
	}()
	fmt.Println("listening on", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
	return nil
}

var padding = []byte(strings.Repeat(" ", 4096))

// envelopeSize is how long wslb echo's reply to a payloadSize message of
// the benchmark is (connection 16, the highest sequence number of a round).
func envelopeSize(msgsPerConn int) int {
	return len(echo.AppendEnvelope(nil, "bench", benchConns/2, uint64(msgsPerConn), time.Now(), []byte(strings.Repeat("x", payloadSize))))
}

// pingPong is the minimal gorilla client: conns connections, each sending
// msgs messages one at a time and reading each reply. Replies are read,
// not parsed.
func pingPong(addr string, conns, msgs int) error {
	payload := []byte(strings.Repeat("x", payloadSize))
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for range msgs {
				if err := c.WriteMessage(websocket.TextMessage, payload); err != nil {
					errs <- err
					return
				}
				if _, _, err := c.ReadMessage(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// harnessClient is the same load through wslb's harness, which also checks
// every reply's envelope and records its round trip.
func harnessClient(addr string, n int) error {
	h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Clients: benchConns, Concurrency: benchConns, Messages: n / benchConns})
	if err != nil {
		return err
	}
	res, err := h.Run(context.Background())
	if err != nil {
		return err
	}
	if bad := res.HandshakeErrors + res.MessageErrors; bad > 0 {
		return fmt.Errorf("%d errors: %v", bad, res.ErrorSamples)
	}
	return nil
}

// harnessHold holds n connections (Open) after a warm-up, telling the
// parent when to read its memory: "ready" before, "held" after.
func harnessHold(addr string, n int) error {
	open := func(clients, first int) (*harness.Session, error) {
		h, err := harness.New(harness.Config{URL: "ws://" + addr + "/", Mode: harness.ModeSource, Messages: 1, Clients: clients, FirstClient: first})
		if err != nil {
			return nil, err
		}
		return h.Open(context.Background())
	}
	warm, err := open(8, 1000)
	if err != nil {
		return err
	}
	_ = warm.Close()
	in := bufio.NewReader(os.Stdin)
	fmt.Println("ready")
	if _, err := in.ReadString('\n'); err != nil {
		return err
	}
	s, err := open(n, 2000)
	if err != nil {
		return err
	}
	defer s.Close()
	if s.Open() != n {
		return fmt.Errorf("%d of %d connections open: %v", s.Open(), n, s.Opened().ErrorSamples)
	}
	fmt.Println("held")
	_, _ = io.Copy(io.Discard, in)
	return nil
}

// proc is a child process started by the benchmarks.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// startHelper runs this binary in role; startWslb runs the built wslb.
func startHelper(tb testing.TB, role, addr string, n int) *proc {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBench$")
	cmd.Env = append(os.Environ(), envRole+"="+role, envAddr+"="+addr, envCount+"="+strconv.Itoa(n))
	return start(tb, cmd)
}

func startWslbEcho(tb testing.TB) (*proc, string) {
	p := start(tb, exec.Command(wslbBinary(tb), "echo", "--id", "bench", "--listen", "127.0.0.1:0"))
	line := p.line(tb)
	i := strings.LastIndex(line, " ")
	require.Positive(tb, i, line)
	return p, line[i+1:]
}

func start(tb testing.TB, cmd *exec.Cmd) *proc {
	tb.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	cmd.Stderr = os.Stderr
	require.NoError(tb, cmd.Start())
	p := &proc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	tb.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

func (p *proc) line(tb testing.TB) string {
	tb.Helper()
	line, err := p.out.ReadString('\n')
	require.NoError(tb, err)
	return strings.TrimSpace(line)
}

// stop ends a server (stdin closed, SIGTERM for wslb echo) and returns the
// CPU time it used in its life.
func (p *proc) stop(tb testing.TB) time.Duration {
	tb.Helper()
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.cmd.Wait()
	return cpuOf(p.cmd)
}

func cpuOf(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// wait waits for a client process to finish and returns its CPU time.
func (p *proc) wait(tb testing.TB) time.Duration {
	tb.Helper()
	_ = p.stdin.Close()
	require.NoError(tb, p.cmd.Wait())
	return cpuOf(p.cmd)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkCPUPerMessage measures the CPU per message of each side next to
// the minimal gorilla program in its place, side by side: both run at the
// same time under the same load, so a busy machine slows both alike.
//
//   - echo: `wslb echo` and the minimal gorilla server, each answering the
//     same ping-pong load from this process;
//   - harness: a harness run and the minimal gorilla client, each driving
//     the same load against one `wslb echo`.
//
// Each round gives a ratio (wslb / gorilla, from the processes' rusage);
// the median over the rounds is the metric. 1.0 means as cheap. The echo
// ratio is over each server's whole life (echo/gorilla-cpu) and, next to
// it, without what starting and stopping it costs with no message at all,
// measured in the same round (echo/gorilla-cpu-net): the wslb binary's
// package initialisers cost a few ms once, not per message. A third server
// under the same load at the same time, the minimal one padding its
// replies to the envelope's length (the envelope is about four times the
// 32-byte payload), gives echo/gorilla-same-size-cpu-net: the same bytes
// on the wire, the envelope's formatting left as the difference.
//
//	go test ./bench -run '^$' -bench CPUPerMessage
func BenchmarkCPUPerMessage(b *testing.B) {
	rounds, n := envInt(envRounds, 5), envInt(envMessages, 50_000)
	n -= n % benchConns
	var echoR, echoNetR, echoSizedR, harnessR, echoUS, gorillaSrvUS, sizedSrvUS, harnessUS, gorillaCliUS, echoIdleMS, gorillaIdleMS []float64
	replySize := envelopeSize(n / benchConns)
	perMsg := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	measure := func() {
		for range rounds {
			// What each server costs to start and stop with no message:
			// the same programs, started and stopped side by side.
			e0, _ := startWslbEcho(b)
			g0 := startHelper(b, "gorilla-server", "", 0)
			g0.line(b)
			ie, ig := e0.stop(b), g0.stop(b)
			echoIdleMS, gorillaIdleMS = append(echoIdleMS, ms(ie)), append(gorillaIdleMS, ms(ig))

			// Servers: the same load from this process, at once, to wslb
			// echo, the minimal server and the minimal server writing
			// replies as long as the envelope.
			e, addr := startWslbEcho(b)
			g := startHelper(b, "gorilla-server", "", 0)
			gaddr := strings.TrimPrefix(g.line(b), "listening on ")
			gs := startHelper(b, "gorilla-server-sized", "", replySize)
			gsaddr := strings.TrimPrefix(gs.line(b), "listening on ")
			var eErr, gErr, gsErr error
			var wg sync.WaitGroup
			wg.Go(func() { eErr = pingPong(addr, benchConns, n/benchConns) })
			wg.Go(func() { gErr = pingPong(gaddr, benchConns, n/benchConns) })
			wg.Go(func() { gsErr = pingPong(gsaddr, benchConns, n/benchConns) })
			wg.Wait()
			require.NoError(b, eErr)
			require.NoError(b, gErr)
			require.NoError(b, gsErr)
			we, ge, gse := e.stop(b), g.stop(b), gs.stop(b)
			echoR = append(echoR, float64(we)/float64(ge))
			echoNetR = append(echoNetR, float64(we-ie)/float64(ge-ig))
			echoSizedR = append(echoSizedR, float64(we-ie)/float64(gse-ig))
			echoUS, gorillaSrvUS, sizedSrvUS = append(echoUS, perMsg(we)), append(gorillaSrvUS, perMsg(ge)), append(sizedSrvUS, perMsg(gse))

			// Clients: the same load against one wslb echo, at once.
			srv, saddr := startWslbEcho(b)
			hc := startHelper(b, "harness-client", saddr, n)
			gc := startHelper(b, "gorilla-client", saddr, n)
			wh, wg2 := hc.wait(b), gc.wait(b)
			srv.stop(b)
			harnessR = append(harnessR, float64(wh)/float64(wg2))
			harnessUS, gorillaCliUS = append(harnessUS, perMsg(wh)), append(gorillaCliUS, perMsg(wg2))
		}
	}
	testutil.BenchOnce(b, measure)
	b.Logf("echo/gorilla-server CPU ratios %.3f (without starting and stopping: %.3f; that took %.1f ms and %.1f ms of CPU); "+
		"against %d-byte replies (the envelope's length), without starting and stopping: %.3f; harness/gorilla-client %.3f",
		echoR, echoNetR, echoIdleMS, gorillaIdleMS, replySize, echoSizedR, harnessR)
	b.ReportMetric(median(echoR), "echo/gorilla-cpu")
	b.ReportMetric(median(echoNetR), "echo/gorilla-cpu-net")
	b.ReportMetric(median(echoSizedR), "echo/gorilla-same-size-cpu-net")
	b.ReportMetric(median(sizedSrvUS), "gorilla-same-size-server-cpu-µs/msg")
	b.ReportMetric(median(harnessR), "harness/gorilla-cpu")
	b.ReportMetric(median(echoUS), "echo-cpu-µs/msg")
	b.ReportMetric(median(gorillaSrvUS), "gorilla-server-cpu-µs/msg")
	b.ReportMetric(median(harnessUS), "harness-cpu-µs/msg")
	b.ReportMetric(median(gorillaCliUS), "gorilla-client-cpu-µs/msg")
}

// BenchmarkRSSPerConn measures the resident memory per connection of the
// real processes holding WSLB_MEASURE_CONNS (5,000) idle connections:
// `wslb echo` serving them, and the harness holding them (Open) in its own
// process. No collection is forced: this is what `ps` shows. The
// forced-GC figures are BenchmarkIdleConnMemory (echo) and
// BenchmarkHeldConnMemory (harness).
//
//	go test ./bench -run '^$' -bench RSSPerConn
func BenchmarkRSSPerConn(b *testing.B) {
	n := envInt(envHold, 5000)
	var echoPer, harnessPer float64
	testutil.BenchOnce(b, func() {
		// wslb echo, connections held by this process.
		e, addr := startWslbEcho(b)
		pid := e.cmd.Process.Pid
		require.NoError(b, pingPong(addr, 8, 10)) // warm up
		time.Sleep(200 * time.Millisecond)
		before := memstat.ProcessRSS(pid)
		conns := make([]*websocket.Conn, 0, n)
		for range n {
			c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
			require.NoError(b, err)
			conns = append(conns, c)
		}
		time.Sleep(500 * time.Millisecond)
		echoPer = memstat.Growth(before, memstat.ProcessRSS(pid), n)
		for _, c := range conns {
			_ = c.Close()
		}
		e.stop(b)

		// The harness in its own process, against a wslb echo.
		srv, saddr := startWslbEcho(b)
		h := startHelper(b, "harness-hold", saddr, n)
		require.Equal(b, "ready", h.line(b))
		hpid := h.cmd.Process.Pid
		before = memstat.ProcessRSS(hpid)
		_, err := io.WriteString(h.stdin, "go\n")
		require.NoError(b, err)
		require.Equal(b, "held", h.line(b))
		time.Sleep(500 * time.Millisecond)
		harnessPer = memstat.Growth(before, memstat.ProcessRSS(hpid), n)
		h.stop(b)
		srv.stop(b)
	})
	b.Logf("%d idle connections: wslb echo %.1f KB RSS per connection, harness %.1f KB", n, echoPer/1024, harnessPer/1024)
	b.ReportMetric(echoPer, "echo-rss-B/conn")
	b.ReportMetric(harnessPer, "harness-rss-B/conn")
}
