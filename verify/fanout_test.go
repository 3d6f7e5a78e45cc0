package verify

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/report"
)

// Kafka cannot be installed on these machines: the Kafka path runs
// against franz-go's in-process Kafka-protocol cluster (kfake), which
// --broker-start kafka starts, with the real client on the real protocol.
// Three nodes on one topic deliver every message exactly once; a stopped
// node's clients' misses are counted; each node on its own topic fails
// with what each node's clients missed.
func TestFanoutKafka(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	t.Parallel()
	opts := Options{Proxies: []proxybin.Kind{proxybin.HAProxy}, Clients: 30, Reconnects: 0, Messages: 1,
		BrokerStart: "kafka", Scenarios: []string{ScenarioFanout, ScenarioFanoutNodeStop}, Timeout: 3 * time.Minute}
	s, err := VerifyTopology(context.Background(), fanoutBenchTopology(t, 3), opts)
	require.NoError(t, err)
	text := fanoutText(s)
	require.True(t, s.Passed, text)
	require.Contains(t, text, "1200/1200 deliveries (120 messages to 30 clients on 3 nodes): every message exactly once")
	require.Contains(t, text, "missed while away from stopped ws")

	opts.BrokerChannel, opts.Scenarios = "wslb-{id}", []string{ScenarioFanout}
	s, err = VerifyTopology(context.Background(), fanoutBenchTopology(t, 3), opts)
	require.NoError(t, err)
	text = fanoutText(s)
	require.False(t, s.Passed, text)
	require.Equal(t, 3, strings.Count(text, "every one published through another node"), text)
}

func fanoutText(s *report.Summary) string {
	var b bytes.Buffer
	_ = report.WriteText(&b, s, report.TextOptions{Width: 400})
	return b.String()
}
