package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/brokerproc"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/report"
	"github.com/wslb/wslb/topology"
)

// fanoutBenchTopology is a pool of n nodes without affinity behind one
// WebSocket route.
func fanoutBenchTopology(b testing.TB, n int) *topology.Topology {
	b.Helper()
	var servers strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&servers, "  server \"ws%d\" { address = \"10.0.0.%d:8080\" }\n", i, i)
	}
	src := fmt.Sprintf(`listener "public" {
  address = "0.0.0.0:8080"
}
route "realtime" {
  path      = "/ws"
  websocket = true
  pool      = "realtime"
}
pool "realtime" {
  affinity {
    mode = "none"
  }
%s}
`, servers.String())
	topo, diags := topology.NewLoader().Load("fanout.hcl", []byte(src))
	require.False(b, diags.HasErrors(), diags.Error())
	return topo
}

// BenchmarkFanout measures fan-out through HAProxy, side by side in one
// run: 1,000 clients (rooms of 50) over 3 nodes sharing each broker wslb
// can start, next to a single node without a broker (every delivery
// local) as the baseline. Each client publishes 4 messages: 200,000
// deliveries per configuration. Reported per configuration: deliveries per
// second (from the first message published to the last delivery) and its
// ratio to the baseline, and the publish-to-delivery latency p50/p99/max.
//
//	go test ./verify -run '^$' -bench Fanout -benchtime 1x
func BenchmarkFanout(b *testing.B) {
	benchProxy(b, proxybin.HAProxy)
	clients := 1000
	type config struct {
		name  string
		nodes int
		kind  broker.Kind
	}
	configs := []config{{name: "1 node, no broker", nodes: 1}}
	for _, k := range []broker.Kind{broker.RabbitMQ, broker.NATS, broker.Redis, broker.Kafka} {
		configs = append(configs, config{name: "3 nodes, " + string(k), nodes: 3, kind: k})
	}
	type result struct {
		rate                float64
		p50, p99, max       time.Duration
		delivered, expected float64
		skipped             string
	}
	results := make([]result, len(configs))
	testutil.BenchOnce(b, func() {
		for i, c := range configs {
			opts := Options{Proxies: []proxybin.Kind{proxybin.HAProxy}, Clients: clients, Reconnects: 0, Messages: 1,
				Publish: 4, RoomSize: 50, Scenarios: []string{ScenarioFanout}, Timeout: 5 * time.Minute, BrokerStart: string(c.kind)}
			s, err := VerifyTopology(context.Background(), fanoutBenchTopology(b, c.nodes), opts)
			if errors.Is(err, brokerproc.ErrMissing) {
				results[i].skipped = err.Error()
				continue
			}
			require.NoError(b, err, c.name)
			sc := fanoutScenario(s)
			require.NotNil(b, sc, c.name)
			require.True(b, sc.Passed, "%s: %s\n%s", c.name, sc.Summary, strings.Join(sc.Details, "\n"))
			results[i] = result{
				rate: metricValue(b, sc, "delivery rate"), delivered: metricValue(b, sc, "delivered"), expected: metricValue(b, sc, "deliveries expected"),
				p50: msDur(metricValue(b, sc, "latency p50")), p99: msDur(metricValue(b, sc, "latency p99")), max: msDur(metricValue(b, sc, "latency max")),
			}
		}
	})
	base := results[0].rate
	for i, c := range configs {
		r := results[i]
		if r.skipped != "" {
			b.Logf("%-22s skipped: %s", c.name, r.skipped)
			continue
		}
		b.Logf("%-22s %8.0f deliveries/s (%.2f× baseline)  latency p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%.0f/%.0f delivered)",
			c.name, r.rate, r.rate/base, ms(r.p50), ms(r.p99), ms(r.max), r.delivered, r.expected)
		unit := strings.NewReplacer(" ", "", ",", "-").Replace(c.name)
		b.ReportMetric(r.rate, unit+"-deliveries/s")
		b.ReportMetric(ms(r.p99), unit+"-p99-ms")
	}
}

// fanoutScenario is the fan-out scenario of a one-run summary.
func fanoutScenario(s *report.Summary) *report.Scenario {
	for _, run := range s.Runs {
		for _, sc := range run.Scenarios {
			if sc.Name == ScenarioFanout {
				return sc
			}
		}
	}
	return nil
}

func msDur(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
