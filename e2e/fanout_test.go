package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/broker"
	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/internal/testutil"
)

// fanoutBrokers are the broker kinds `verify --broker-start` runs for
// real here, with the server process each one is.
var fanoutBrokers = []struct {
	kind    broker.Kind
	process string
}{
	{broker.RabbitMQ, "rabbit"},
	{broker.NATS, "nats-server"},
	{broker.Redis, "redis-server"},
}

// fanoutVerify is a small fan-out run: 30 clients (3 rooms of 10, over 3
// nodes), 4 messages each, on the loopback driver, whose nodes join the
// broker from wslb's process (auto would pick netns as root; the netns
// tests run these there).
func fanoutVerify(kind proxybin.Kind, b broker.Kind, extra ...string) []string {
	return append([]string{"verify", "examples/chat.hcl", "--driver", "loopback", "--proxy", string(kind), "--broker-start", string(b),
		"--clients", "30", "--reconnects", "1"}, extra...)
}

// Every broker, through both proxies: every client of 3 nodes receives
// every message of its room exactly once, in order; stopping a node
// reports exactly what its clients missed while they were away; nothing
// is left running.
func TestFanoutDeliversExactlyOnceThroughBothProxies(t *testing.T) {
	for _, b := range fanoutBrokers {
		t.Run(string(b.kind), func(t *testing.T) {
			t.Parallel()
			testutil.EachProxy(t, func(t *testing.T, kind proxybin.Kind) {
				r := start(t, fanoutVerify(kind, b.kind, "--scenarios", "fanout,fanout-node-stop")...)
				code := r.wait(t, 3*time.Minute)
				out := r.stdout.String()
				require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
				flat := strings.Join(strings.Fields(out), " ")
				require.Contains(t, flat, "PASS fanout 1200/1200 deliveries (120 messages to 30 clients on 3 nodes): every message exactly once, in order")
				for _, node := range []string{"ws1", "ws2", "ws3"} {
					require.Regexp(t, `delivered on `+node+` [1-9][\d,]* messages (· )?lost on `+node+` 0 messages`, flat)
				}
				// The node stop: what the stopped node's clients missed is
				// counted exactly, and matches the per-node lines.
				m := regexp.MustCompile(`PASS fanout-node-stop (\d+)/1200 deliveries .*?; (\d+) missed while away from stopped (ws\d)`).FindStringSubmatch(flat)
				require.NotNil(t, m, flat)
				delivered, _ := strconv.Atoi(m[1])
				away, _ := strconv.Atoi(m[2])
				require.Equal(t, 1200, delivered+away, "every expected delivery is delivered or missed while away")
				require.Contains(t, flat, "stopped "+m[3]+" (no resume from an offset)")
				r.requireClean(t, b.process)
			})
		})
	}
}

// Each node on its own channel: the fan-out fails and names, per node, the
// messages its clients missed, all published through another node.
func TestFanoutMiswiredBrokerFails(t *testing.T) {
	testutil.NeedProxy(t, proxybin.HAProxy)
	for _, b := range fanoutBrokers {
		t.Run(string(b.kind), func(t *testing.T) {
			t.Parallel()
			r := start(t, fanoutVerify(proxybin.HAProxy, b.kind, "--scenarios", "fanout", "--broker-channel", "wslb-{id}")...)
			code := r.wait(t, 3*time.Minute)
			out := r.stdout.String()
			require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			flat := strings.Join(strings.Fields(out), " ")
			require.Regexp(t, `FAIL fanout \d+/1200 deliveries \(120 messages to 30 clients on 3 nodes\): \d+ lost`, flat)
			missed := regexp.MustCompile(`clients on (ws\d) \((\d+)\) missed (\d+) messages, every one published through another node: is every node on the same broker channel`).FindAllStringSubmatch(flat, -1)
			require.Len(t, missed, 3, flat)
			for _, m := range missed {
				n, _ := strconv.Atoi(m[3])
				require.Positive(t, n)
			}
			r.requireClean(t, b.process)
		})
	}
}

// A broker restart is survived or reported, never passed in silence:
// either nothing accepted was lost (and the run passes), or the run fails
// naming how many messages were lost.
func TestFanoutBrokerRestartIsSurvivedOrReported(t *testing.T) {
	testutil.NeedProxy(t, proxybin.Nginx)
	for _, b := range fanoutBrokers {
		t.Run(string(b.kind), func(t *testing.T) {
			t.Parallel()
			r := start(t, fanoutVerify(proxybin.Nginx, b.kind, "--scenarios", "fanout-broker-restart")...)
			code := r.wait(t, 3*time.Minute)
			out := r.stdout.String()
			flat := strings.Join(strings.Fields(out), " ")
			m := regexp.MustCompile(`(PASS|FAIL) fanout-broker-restart .*?; broker restart: (\d+) refused, (\d+) lost`).FindStringSubmatch(flat)
			require.NotNil(t, m, "stdout:\n%s\nstderr:\n%s", out, r.stderr.String())
			lost, _ := strconv.Atoi(m[3])
			if lost > 0 {
				require.Equal(t, "FAIL", m[1])
				require.Equal(t, 1, code)
			} else if m[1] == "PASS" {
				require.Equal(t, 0, code)
			}
			r.requireClean(t, b.process)
		})
	}
}
