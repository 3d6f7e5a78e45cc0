package verify

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/driver"
	_ "github.com/wslb/wslb/driver/docker" // BenchmarkVerifyChatDriver
	"github.com/wslb/wslb/driver/loopback"
	_ "github.com/wslb/wslb/driver/netns" // BenchmarkVerifyChatDriver
	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/harness"
	"github.com/wslb/wslb/internal/memstat"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/topology"
)

// Benchmarks of verify (make bench):
//
//	go test ./verify -run '^$' -bench . -benchtime 1x
//
// Each does one measurement per proxy and reports it with b.ReportMetric;
// docs/benchmarks.md records the numbers.

// staticWSLB builds wslb without cgo, for the docker driver's node image.
func staticWSLB(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "wslb")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/wslb/wslb/cmd/wslb")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(b, err, "%s", out)
	return bin
}

func benchProxy(b *testing.B, kind proxybin.Kind) proxybin.Binary {
	b.Helper()
	bin, err := proxybin.Lookup(kind)
	if err != nil {
		b.Skipf("%s: %v", kind, err)
	}
	return bin
}

func benchChat(b *testing.B) *topology.Topology {
	b.Helper()
	topo, diags := topology.NewLoader().LoadFile("../examples/chat.hcl")
	require.False(b, diags.HasErrors(), diags.Error())
	return topo
}

func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerifyChat verifies examples/chat.hcl with 1,000 clients × 3
// reconnects and every default scenario on the loopback driver, per proxy, with the fast health
// checks verify uses by default and with the production timers
// (--production-timers): wall time, the failover scenario's share of it,
// CPU of wslb (clients and backends) and CPU of the proxy processes.
func BenchmarkVerifyChat(b *testing.B) {
	for _, kind := range proxybin.Kinds {
		for _, timers := range []string{"fast", "production"} {
			b.Run(string(kind)+"/"+timers, func(b *testing.B) {
				benchProxy(b, kind)
				topo := benchChat(b)
				// On loopback, as docs/benchmarks.md records it (auto may
				// pick netns; BenchmarkVerifyChatDriver compares drivers).
				opts := Options{Proxies: []proxybin.Kind{kind}, Driver: loopback.Name, Clients: 1000, Reconnects: 3, Messages: DefaultMessages,
					Timeout: 5 * time.Minute, ProductionTimers: timers == "production"}
				var wall, self, children, failover time.Duration
				var routeAround float64
				testutil.BenchOnce(b, func() {
					s0, c0, t0 := cpuTime(syscall.RUSAGE_SELF), cpuTime(syscall.RUSAGE_CHILDREN), time.Now()
					s, err := VerifyTopology(context.Background(), topo, opts)
					require.NoError(b, err)
					wall, self, children = time.Since(t0), cpuTime(syscall.RUSAGE_SELF)-s0, cpuTime(syscall.RUSAGE_CHILDREN)-c0
					require.True(b, s.Passed, "%+v", s.Runs[0].Scenarios)
					for _, sc := range s.Runs[0].Scenarios {
						if sc.Name == ScenarioFailover {
							failover, routeAround = sc.Elapsed, metricValue(b, sc, "time to route around")
						}
					}
				})
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric(failover.Seconds(), "failover-s")
				b.ReportMetric(routeAround, "route-around-ms")
				b.ReportMetric(self.Seconds(), "cpu-wslb-s")
				b.ReportMetric(children.Seconds(), "cpu-proxy-s")
			})
		}
	}
}

// TestHelperEchoBackends is not a test: BenchmarkHold runs the test binary
// as a child serving echo backends, so the harness's memory and the
// backends' are measured apart.
func TestHelperEchoBackends(t *testing.T) { testutil.ServeEchoBackends(t) }

// startChat runs examples/chat.hcl on the proxy in front of the given
// backend addresses and returns the listener address.
func startChat(b *testing.B, kind proxybin.Kind, backends map[string]string) (string, *loopback.Proxy) {
	b.Helper()
	bin := benchProxy(b, kind)
	topo := benchChat(b)
	scratch, err := loopback.NewScratch()
	require.NoError(b, err)
	b.Cleanup(func() { _ = scratch.Close() })
	addrs, err := loopback.ListenAddrs(1)
	require.NoError(b, err)
	local := localTopology(topo, map[string]netip.AddrPort{topo.Listeners[0].Name: addrs[0]}, func(s *topology.Server) topology.Address {
		addr, ok := backends[s.Name]
		if !ok {
			addr = backends["web"]
		}
		host, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return topology.Address{Host: host, Port: n}
	})
	local.Limits.MaxConns = min(local.Limits.MaxConns, localMaxConns())
	arts, err := generator.Generate(local, generator.Options{
		Kinds: []proxybin.Kind{kind}, Runtime: &generator.Runtime{Dir: scratch.Dir}, IdentityHeader: IdentityHeader,
	})
	require.NoError(b, err)
	cfg, err := scratch.WriteFile(arts[0].Name, arts[0].Bytes)
	require.NoError(b, err)
	listen := addrs[0].String()
	p, err := loopback.StartProxy(context.Background(), loopback.ProxyOptions{
		Kind: kind, Binary: bin.Path, Config: cfg, Dir: scratch.Dir, ReadyAddr: listen,
	})
	require.NoError(b, err)
	b.Cleanup(func() { _ = p.Close() })
	return listen, p
}

// holdConns is how many connections BenchmarkHold holds: the most a proxy
// can carry under RLIMIT_NOFILE 20,000 (two descriptors per connection).
const holdConns = 9000

// BenchmarkHold holds 9,000 WebSocket connections through each proxy, from
// 9,000 source addresses, and reports the memory per connection of the
// harness (this process), the echo backends (a child process) and the
// proxy (its processes' RSS).
func BenchmarkHold(b *testing.B) {
	for _, kind := range proxybin.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			benchProxy(b, kind)
			backends, echoPid := testutil.StartEchoBackends(b, "TestHelperEchoBackends", "ws1", "ws2", "ws3", "web")
			listen, proxy := startChat(b, kind, backends)
			cfg := harness.Config{
				URL: "ws://" + listen + "/ws", Mode: harness.ModeSource, Messages: 1,
				Concurrency: concurrency, CheckInterval: time.Hour,
			}
			// Warm up dialer, pools and stacks.
			cfg.Clients = 8
			warm, err := harness.New(cfg)
			require.NoError(b, err)
			ws, err := warm.Open(context.Background())
			require.NoError(b, err)
			require.NoError(b, ws.Close())

			var per memstat.PerItem
			var echoPer, proxyPer float64
			var open int
			var elapsed time.Duration
			testutil.BenchOnce(b, func() {
				before, echoBefore, proxyBefore := memstat.Take(), memstat.ProcessRSS(echoPid), memstat.ProcessRSS(proxy.Pids()...)
				cfg.Clients = holdConns
				h, err := harness.New(cfg)
				require.NoError(b, err)
				t0 := time.Now()
				s, err := h.Open(context.Background())
				elapsed = time.Since(t0)
				require.NoError(b, err)
				open = s.Open()
				per = memstat.Per(before, memstat.Take(), holdConns)
				echoPer = memstat.Growth(echoBefore, memstat.ProcessRSS(echoPid), holdConns)
				proxyPer = memstat.Growth(proxyBefore, memstat.ProcessRSS(proxy.Pids()...), holdConns)
				require.NoError(b, s.Close())
			})
			require.Equal(b, holdConns, open, "connections held")
			b.ReportMetric(float64(open), "conns")
			b.ReportMetric(elapsed.Seconds(), "open-s")
			per.Report(b, "harness-")
			b.ReportMetric(echoPer, "backend-rss-B/conn")
			b.ReportMetric(proxyPer, "proxy-rss-B/conn")
		})
	}
}

// BenchmarkEchoThroughput measures echo messages per second straight to a
// backend and through each proxy, alternating rounds so that all three see
// the same machine load, and reports each proxy as a ratio of direct.
func BenchmarkEchoThroughput(b *testing.B) {
	const (
		clients  = 32
		messages = 300
		rounds   = 3
	)
	benchProxy(b, proxybin.HAProxy)
	benchProxy(b, proxybin.Nginx)
	eb := newEchoBackends()
	backs, err := loopback.StartBackends([]string{"ws1", "ws2", "ws3", "web"}, eb.factory)
	require.NoError(b, err)
	b.Cleanup(func() { _ = backs.Close() })
	addrs := map[string]string{}
	for _, id := range backs.IDs() {
		addrs[id] = backs.Addr(id)
	}
	targets := []struct{ name, url string }{{name: "direct", url: "ws://" + addrs["ws1"] + "/ws"}}
	for _, kind := range proxybin.Kinds {
		listen, _ := startChat(b, kind, addrs)
		targets = append(targets, struct{ name, url string }{string(kind), "ws://" + listen + "/ws"})
	}
	rate := map[string]float64{}
	testutil.BenchOnce(b, func() {
		echoed := map[string]int64{}
		took := map[string]time.Duration{}
		for range rounds {
			for _, tg := range targets {
				h, err := harness.New(harness.Config{URL: tg.url, Mode: harness.ModeNone, Clients: clients, Messages: messages, Concurrency: clients})
				require.NoError(b, err)
				res, err := h.Run(context.Background())
				require.NoError(b, err)
				require.Zero(b, res.HandshakeErrors+res.MessageErrors, res.ErrorSamples)
				echoed[tg.name] += res.Echoed
				took[tg.name] += res.Elapsed
			}
		}
		for _, tg := range targets {
			rate[tg.name] = float64(echoed[tg.name]) / took[tg.name].Seconds()
		}
	})
	b.ReportMetric(rate["direct"], "direct-msg/s")
	for _, kind := range proxybin.Kinds {
		b.ReportMetric(rate[string(kind)], string(kind)+"-msg/s")
		b.ReportMetric(rate[string(kind)]/rate["direct"], string(kind)+"/direct")
	}
}

// BenchmarkVerifyChatDriver is `wslb verify examples/chat.hcl` with the
// default clients and scenarios, per proxy and per driver, side by side
// (docs/benchmarks.md, *Drivers*):
//
//	go test ./verify -run '^$' -bench VerifyChatDriver -benchtime 1x
func BenchmarkVerifyChatDriver(b *testing.B) {
	for _, kind := range proxybin.Kinds {
		for _, drv := range []string{"loopback", "netns", "docker"} {
			b.Run(string(kind)+"/"+drv, func(b *testing.B) {
				benchProxy(b, kind)
				if _, err := driver.Pick(drv, driver.Needs{}); err != nil {
					b.Skip(err)
				}
				opts := Options{Proxies: []proxybin.Kind{kind}, Driver: drv, Clients: DefaultClients, Reconnects: DefaultReconnects, Timeout: 5 * time.Minute}
				if drv == "docker" {
					// The test image, at the versions it holds, and a
					// static wslb for the node image.
					testutil.NeedDocker(b)
					opts.ProxyImages = map[proxybin.Kind]string{kind: testutil.DockerProxyImage}
					opts.ProxyVersions = map[proxybin.Kind]string{kind: testutil.DockerProxyVersions[kind]}
					b.Setenv("WSLB_NODE_BINARY", staticWSLB(b))
				}
				var wall time.Duration
				testutil.BenchOnce(b, func() {
					t0 := time.Now()
					s, err := VerifyTopology(context.Background(), benchChat(b), opts)
					require.NoError(b, err)
					wall = time.Since(t0)
					require.True(b, s.Passed, "%+v", s.Runs[0].Scenarios)
					require.Equal(b, drv, s.Runs[0].Driver)
				})
				b.ReportMetric(wall.Seconds(), "wall-s")
			})
		}
	}
}
