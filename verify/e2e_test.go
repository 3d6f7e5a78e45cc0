package verify_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/verify"
)

// These tests run the real haproxy and nginx binaries against in-process
// echo backends on loopback. They mostly wait (health checks, reloads), so
// TestMain lets more of them run at once than there are cores.
func TestMain(m *testing.M) {
	flag.Parse()
	testutil.RaiseParallel(6)
	os.Exit(m.Run())
}

// small keeps each end-to-end run short: 40 clients × 3 connections × 3
// messages, on the given proxies (none: every proxy).
func small(proxies ...proxybin.Kind) verify.Options {
	return verify.Options{Proxies: proxies, Clients: 40, Reconnects: 2, Messages: 3, Timeout: 2 * time.Minute}
}

func load(t *testing.T, path string) *topology.Topology {
	t.Helper()
	topo, diags := topology.NewLoader().LoadFile(path)
	require.False(t, diags.HasErrors(), "%s: %v", path, diags)
	return topo
}

func loadText(t *testing.T, name, src string) *topology.Topology {
	t.Helper()
	topo, diags := topology.NewLoader().Load(name, []byte(src))
	require.False(t, diags.HasErrors(), "%s: %v", name, diags)
	return topo
}

func reportText(s *report.Summary) string {
	var b bytes.Buffer
	_ = report.WriteText(&b, s, report.TextOptions{Width: 120})
	return b.String()
}

func metric(t *testing.T, sc *report.Scenario, name string) float64 {
	t.Helper()
	for _, m := range sc.Metrics {
		if m.Name == name {
			return m.Value
		}
	}
	t.Fatalf("no metric %q in %s: %+v", name, sc.Name, sc.Metrics)
	return 0
}

func scenario(r *report.Run, name string) *report.Scenario {
	for _, sc := range r.Scenarios {
		if sc.Name == name {
			return sc
		}
	}
	return nil
}

// requireAllPassed checks that every run ran every default scenario and
// passed it.
func requireAllPassed(t *testing.T, s *report.Summary) {
	t.Helper()
	text := reportText(s)
	require.True(t, s.Passed, text)
	require.NotEmpty(t, s.Runs)
	for _, r := range s.Runs {
		for _, name := range verify.DefaultScenarios {
			sc := scenario(r, name)
			require.NotNil(t, sc, "%s: no %s scenario\n%s", r.Proxy, name, text)
			require.False(t, sc.Skipped, "%s: %s skipped\n%s", r.Proxy, name, text)
			require.True(t, sc.Passed, "%s: %s failed\n%s", r.Proxy, name, text)
		}
		require.Equal(t, 1.0, r.Stickiness, text)
		require.Zero(t, r.Errors.Handshake+r.Errors.Message, text)
		require.Equal(t, r.Errors.Sent, r.Errors.Echoed, text)
		require.Positive(t, r.RTT.Samples, text)
	}
}

func TestE2EExamplesPassEveryScenario(t *testing.T) {
	examples, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, path := range examples {
		for _, kind := range proxybin.Kinds {
			t.Run(filepath.Base(path)+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				testutil.NeedProxy(t, kind)
				opts := small(kind)
				opts.Idle = time.Second // every scenario, idle included
				if filepath.Base(path) == "fanout.hcl" {
					// Its pool's Redis broker is started by the run. Redis
					// pub/sub keeps nothing while the nodes reconnect, so a
					// broker restart is reported as lost messages, a
					// failure by design (the broker e2e tests judge it).
					// No affinity, so no stickiness either: fan-out instead.
					opts.Scenarios = []string{verify.ScenarioSpread, verify.ScenarioFanout, verify.ScenarioFanoutNodeStop, verify.ScenarioIdle}
					s, err := verify.VerifyTopology(context.Background(), load(t, path), opts)
					require.NoError(t, err)
					require.True(t, s.Passed, reportText(s))
					for _, r := range s.Runs {
						for _, name := range opts.Scenarios {
							sc := scenario(r, name)
							require.NotNil(t, sc, "%s: no %s scenario", r.Proxy, name)
							require.True(t, sc.Passed && !sc.Skipped, "%s: %s\n%s", r.Proxy, name, reportText(s))
						}
					}
					return
				}
				s, err := verify.VerifyTopology(context.Background(), load(t, path), opts)
				require.NoError(t, err)
				requireAllPassed(t, s)
				for _, r := range s.Runs {
					require.Equal(t, string(kind), r.Proxy)
					idle := scenario(r, verify.ScenarioIdle)
					require.NotNil(t, idle)
					require.True(t, idle.Passed, reportText(s))
					// Every phase's echoes count in the load, held
					// connections' included: one round trip each.
					require.Positive(t, r.Load.Messages)
					require.Equal(t, r.Load.Messages, r.Load.Queueing.Samples, "load messages and their round trips")
					if filepath.Base(path) == "chat.hcl" {
						// Fast checks in the local copy; the report states the
						// production timing next to what this run observed.
						fo := scenario(r, verify.ScenarioFailover)
						require.Contains(t, fo.Summary, "production", reportText(s))
						if kind == proxybin.HAProxy {
							down := metric(t, fo, "proxy marked it down after")
							require.Less(t, down, metric(t, fo, "route around with production timers"), "the fast checks must be faster than 2s × fall 3")
						}
					}
				}
			})
		}
	}
}

// pool3 is a topology with one WebSocket pool of three servers and the
// given affinity block.
func pool3(affinity string) string {
	return `
listener "main" {
  address = "0.0.0.0:8080"
}
route "ws" {
  path      = "/ws"
  websocket = true
  pool      = "ws"
}
pool "ws" {
  ` + affinity + `
  health_check {
    interval = "1s"
  }
  server "a" {
    address = "10.0.0.1:80"
  }
  server "b" {
    address = "10.0.0.2:80"
  }
  server "c" {
    address = "10.0.0.3:80"
  }
}
`
}

func TestE2EAffinityModesPass(t *testing.T) {
	modes := map[string]string{
		"source-ip-hash":    "affinity {\n mode = \"source\"\n}",
		"source-hash":       "affinity {\n mode = \"source\"\n nginx_method = \"hash\"\n}",
		"source-map-based":  "affinity {\n mode = \"source\"\n consistent = false\n}",
		"cookie":            "affinity {\n mode = \"cookie\"\n cookie = \"SRV\"\n}",
		"cookie-roundrobin": "balance = \"roundrobin\"\naffinity {\n mode = \"cookie\"\n cookie = \"route\"\n}",
		"header":            "affinity {\n mode = \"header\"\n header = \"X-Session-Id\"\n}",
		"query":             "affinity {\n mode = \"query\"\n param = \"sid\"\n}",
		"query-leastconn":   "balance = \"leastconn\"\naffinity {\n mode = \"query\"\n param = \"room\"\n}",
	}
	for name, aff := range modes {
		src := pool3(aff)
		for _, kind := range proxybin.Kinds {
			t.Run(name+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				testutil.NeedProxy(t, kind)
				opts := small(kind)
				s, err := verify.VerifyTopology(context.Background(), loadText(t, name+".hcl", src), opts)
				require.NoError(t, err)
				requireAllPassed(t, s)
			})
		}
	}
}

func TestE2ERoundRobinFailsStickiness(t *testing.T) {
	src := pool3("balance = \"roundrobin\"\naffinity {\nmode = \"none\"\n}")
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		opts := small(kind)
		opts.Scenarios = []string{verify.ScenarioStickiness, verify.ScenarioSpread}
		s, err := verify.VerifyTopology(context.Background(), loadText(t, "rr.hcl", src), opts)
		require.NoError(t, err)
		requireStickinessFailed(t, s)
	})
}

// requireStickinessFailed checks the verdict and that the report names
// clients that hit several backends.
func requireStickinessFailed(t *testing.T, s *report.Summary) {
	t.Helper()
	text := reportText(s)
	require.False(t, s.Passed, text)
	require.Len(t, s.Runs, 1)
	r := s.Runs[0]
	sc := scenario(r, verify.ScenarioStickiness)
	require.NotNil(t, sc)
	require.False(t, sc.Passed, text)
	require.Less(t, r.Stickiness, 0.5, text)
	require.NotEmpty(t, sc.Details)
	require.Regexp(t, `^client-\d+: hit [23] backends: `, sc.Details[0])
	require.Contains(t, text, sc.Details[0])
	// Round robin spreads perfectly; only stickiness fails.
	require.True(t, scenario(r, verify.ScenarioSpread).Passed, text)
}

func TestE2EExistingConfigs(t *testing.T) {
	tests := []struct {
		file   string
		kind   proxybin.Kind
		sticky bool
	}{
		{"sticky-cookie.haproxy.cfg", proxybin.HAProxy, true},
		{"sticky-source.nginx.conf", proxybin.Nginx, true},
		{"sticky-source.haproxy.cfg", proxybin.HAProxy, true},
		{"sticky-header.haproxy.cfg", proxybin.HAProxy, true},
		{"sticky-query.nginx.conf", proxybin.Nginx, true},
		// A cookie the application sets and the proxy only hashes.
		{"sticky-app-cookie.nginx.conf", proxybin.Nginx, true},
		{"sticky-app-cookie.haproxy.cfg", proxybin.HAProxy, true},
		{"roundrobin.haproxy.cfg", proxybin.HAProxy, false},
		{"roundrobin.nginx.conf", proxybin.Nginx, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			testutil.NeedProxy(t, tc.kind)
			opts := small()
			if !tc.sticky {
				opts.Scenarios = []string{verify.ScenarioStickiness, verify.ScenarioSpread}
			}
			s, err := verify.VerifyConfig(context.Background(), filepath.Join("testdata", "configs", tc.file), "", opts)
			require.NoError(t, err)
			require.Len(t, s.Runs, 1)
			require.Equal(t, string(tc.kind), s.Runs[0].Proxy)
			if tc.sticky {
				requireAllPassed(t, s)
			} else {
				requireStickinessFailed(t, s)
			}
		})
	}
}

// TestE2EExistingConfigFastChecks runs an existing config whose production
// checks take ~5s to route around a dead server (inter 3s, then fastinter
// 1s, fall 3): the local copy checks every 50ms, and the report gives the
// production timing next to what this run observed.
func TestE2EExistingConfigFastChecks(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	s, err := verify.VerifyConfig(context.Background(), filepath.Join("..", "proxy", "rewrite", "testdata", "haproxy-timers.cfg"), "", small())
	require.NoError(t, err)
	requireAllPassed(t, s)
	text := reportText(s)
	fo := scenario(s.Runs[0], verify.ScenarioFailover)
	require.Contains(t, fo.Summary, "(production timers: ~5s)", text)
	require.Regexp(t, `routed around in [0-9.]+m?s here`, fo.Summary, text)
	prod := metric(t, fo, "route around with production timers")
	require.Equal(t, 5000.0, prod, text)
	require.Less(t, metric(t, fo, "proxy marked it down after"), prod, "the fast checks must beat inter 3s + fastinter 1s × 2\n%s", text)
	require.Contains(t, strings.Join(fo.Details, "\n"), "~5s (inter 3s, then fastinter 1s, fall 3)", text)
}

func TestE2EExistingConfigKindMismatch(t *testing.T) {
	_, err := verify.VerifyConfig(context.Background(), filepath.Join("testdata", "configs", "sticky-source.nginx.conf"), proxybin.HAProxy, small())
	var inv *verify.InputError
	require.ErrorAs(t, err, &inv)
	require.Contains(t, err.Error(), "is a nginx config, not haproxy")
}

func TestE2EIdle(t *testing.T) {
	// A tunnel timeout of 2s closes sockets idle for 3s; one of 1h does not.
	for _, tunnel := range []string{"2s", "1h"} {
		for _, kind := range proxybin.Kinds {
			t.Run(tunnel+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				testutil.NeedProxy(t, kind)
				src := pool3("affinity {\nmode = \"source\"\n}") + "timeouts {\ntunnel = \"" + tunnel + "\"\n}\n"
				opts := small(kind)
				opts.Clients = 20
				opts.Scenarios = []string{verify.ScenarioIdle}
				opts.Idle = 3 * time.Second
				s, err := verify.VerifyTopology(context.Background(), loadText(t, "idle.hcl", src), opts)
				require.NoError(t, err)
				text := reportText(s)
				sc := scenario(s.Runs[0], verify.ScenarioIdle)
				require.NotNil(t, sc, text)
				if tunnel == "1h" {
					require.True(t, sc.Passed, text)
					require.True(t, s.Passed, text)
					return
				}
				require.False(t, sc.Passed, text)
				require.False(t, s.Passed, text)
				require.Contains(t, sc.Summary, "0/20 connections survived 3s idle", text)
				require.Equal(t, 20, s.Runs[0].Errors.Dropped, text)
			})
		}
	}
}

func TestE2ESelectedPools(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	t.Parallel()
	opts := small(proxybin.HAProxy)
	opts.Pools = []string{"nope"}
	_, err := verify.VerifyTopology(context.Background(), load(t, "../examples/chat.hcl"), opts)
	var inv *verify.InputError
	require.ErrorAs(t, err, &inv)
	require.Contains(t, err.Error(), `no pool "nope"`)
	require.Contains(t, err.Error(), "realtime, web")
}

func TestE2EEveryWebSocketPoolIsARun(t *testing.T) {
	src := `
listener "main" {
  address = "0.0.0.0:8080"
}
route "chat" {
  path      = "/chat"
  websocket = true
  pool      = "chat"
}
route "feed" {
  path      = "/feed"
  websocket = true
  pool      = "feed"
}
pool "chat" {
  affinity {
    mode = "source"
  }
  server "chat1" {
    address = "10.0.0.1:80"
  }
  server "chat2" {
    address = "10.0.0.2:80"
  }
}
pool "feed" {
  affinity {
    mode   = "header"
    header = "X-User"
  }
  server "feed1" {
    address = "10.0.1.1:80"
  }
  server "feed2" {
    address = "10.0.1.2:80"
  }
}
`
	testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
		opts := small(kind)
		opts.Scenarios = []string{verify.ScenarioStickiness, verify.ScenarioSpread}
		s, err := verify.VerifyTopology(context.Background(), loadText(t, "two.hcl", src), opts)
		require.NoError(t, err)
		require.True(t, s.Passed, reportText(s))
		require.Len(t, s.Runs, 2)
		require.Equal(t, "chat", s.Runs[0].Pool)
		require.Equal(t, "source", s.Runs[0].Affinity.Mode)
		require.Equal(t, "feed", s.Runs[1].Pool)
		require.Equal(t, report.Affinity{Mode: "header", Key: "X-User"}, s.Runs[1].Affinity)
		// Each run only saw its own pool's servers.
		for _, b := range s.Runs[1].Backends {
			require.Contains(t, []string{"feed1", "feed2"}, b.ID)
			require.Positive(t, b.Clients)
		}
	})
}

// A stick table without peers is sticky, but a reload forgets it: the reload
// scenario keeps every connection yet reports the clients it moved.
func TestE2EStickTableForgottenOnReload(t *testing.T) {
	t.Parallel()
	testutil.NeedProxy(t, proxybin.HAProxy)
	opts := small()
	opts.Scenarios = []string{verify.ScenarioStickiness, verify.ScenarioReload}
	s, err := verify.VerifyConfig(context.Background(), filepath.Join("testdata", "configs", "stick-table.haproxy.cfg"), "", opts)
	require.NoError(t, err)
	text := reportText(s)
	r := s.Runs[0]
	require.Equal(t, "source", r.Affinity.Mode, text)
	require.True(t, scenario(r, verify.ScenarioStickiness).Passed, text)
	sc := scenario(r, verify.ScenarioReload)
	require.True(t, sc.Passed, text)
	require.Regexp(t, `; \d+ clients moved to another backend`, sc.Summary)
	require.Contains(t, strings.Join(sc.Details, "\n"), "peers section")
}

// What `wslb generate` writes verifies as an existing config too: rewritten
// to loopback, the generated configs keep their promises, the WebSocket pool
// is found whichever way the config picks it (an Upgrade ACL, a map on the
// Upgrade header, a cookie map with one upstream per server), and the
// Origin allowlist is honoured without --origin.
func TestE2EGeneratedConfigsVerifyAsExisting(t *testing.T) {
	type want struct{ pool, mode, key string }
	wants := map[proxybin.Kind]map[string]want{
		proxybin.HAProxy: {
			"chat.hcl":        {"be_realtime", "source", ""},
			"cookie.hcl":      {"be_app", "cookie", "WSLB_SRV"},
			"session-key.hcl": {"be_rooms", "query", "room"},
			"socketio.hcl":    {"be_socketio", "cookie", "io_srv"},
			"fanout.hcl":      {"be_realtime", "none", ""},
		},
		proxybin.Nginx: {
			"chat.hcl":        {"wslb_realtime", "source", ""},
			"cookie.hcl":      {"wslb_app", "cookie", "WSLB_SRV"},
			"session-key.hcl": {"wslb_rooms", "query", "room"},
			"socketio.hcl":    {"wslb_socketio", "cookie", "io_srv"},
			"fanout.hcl":      {"wslb_realtime", "none", ""},
		},
	}
	examples, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for kind, byExample := range wants {
		for _, path := range examples {
			t.Run(string(kind)+"/"+filepath.Base(path), func(t *testing.T) {
				t.Parallel()
				testutil.NeedProxy(t, kind)
				arts, err := generator.Generate(load(t, path), generator.Options{Kinds: []proxybin.Kind{kind}})
				require.NoError(t, err)
				cfg := filepath.Join(testutil.ScratchDir(t), arts[0].Name)
				require.NoError(t, os.WriteFile(cfg, arts[0].Bytes, 0o644))
				opts := small()
				fanout := filepath.Base(path) == "fanout.hcl"
				if fanout {
					// A config does not name its broker: the run is told.
					opts.BrokerStart = "redis"
					opts.Scenarios = []string{verify.ScenarioSpread, verify.ScenarioFanout}
				}
				s, err := verify.VerifyConfig(context.Background(), cfg, "", opts)
				require.NoError(t, err)
				if fanout {
					require.True(t, s.Passed, reportText(s))
				} else {
					requireAllPassed(t, s)
				}
				w, ok := byExample[filepath.Base(path)]
				require.True(t, ok, "no expectation for %s", path)
				r := s.Runs[0]
				require.Equal(t, w, want{r.Pool, r.Affinity.Mode, r.Affinity.Key}, reportText(s))
			})
		}
	}
}
