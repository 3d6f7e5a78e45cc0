package gatewayapi_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy/gatewayapi"
	"github.com/wslb/wslb/proxy/internal/targettest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/gateway-api.yaml from the generator's output")

const goldenDir = targettest.GoldenDir

var target = targettest.Target{Kind: gatewayapi.Kind, Name: "gateway-api", File: "gateway-api.yaml", Pkg: "./proxy/gatewayapi"}

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveIstioCheck()
	os.Exit(code)
}

// globs are the topologies the golden files and the fuzz seeds come from.
var globs = []targettest.Glob{
	{Pattern: "../../examples/*.hcl"}, {Pattern: "../../testdata/istio/*.hcl", Prefix: "istio-"}, {Pattern: "../../testdata/gatewayapi/*.hcl", Prefix: "gatewayapi-"},
}

// caseLines are the lines each case's YAML must hold: every affinity mode
// maps to its consistentHash field in the DestinationRule, WebSocket
// rules have their request timeout off, and the routes keep wslb's
// first-match order.
var caseLines = map[string][]string{
	"chat":                            {"gatewayClassName: istio", "useSourceIp: true", "request: 0s", "value: (?i)websocket", "kind: Hostname", "name: realtime.chat.wslb.internal", "name: origin-refused", "value: (?i)^(https://chat\\.example\\.com)$"},
	"cookie":                          {"name: WSLB_SRV", "ttl: 43200s", "idleTimeout: 7200s", "value: .*"},
	"session-key":                     {"httpQueryParameterName: room", "httpHeaderName: X-Session-Id"},
	"fanout":                          {"simple: LEAST_REQUEST", "request: 0s"},
	"socketio":                        {"name: io_srv", "ttl: 0s", "value: /socket.io/"},
	"istio-affinity-none":             {"simple: LEAST_REQUEST", "request: 0s"},
	"istio-affinity-source-client-ip": {"useSourceIp: true", "protocol: HTTPS", "mode: Terminate", "name: ticker-secure-tls", "maxConnections: 5000"},
	"istio-affinity-cookie-session":   {"name: desk_srv", "ttl: 0s", "- name: Secure", "resolution: DNS"},
	"istio-affinity-header":           {"httpHeaderName: X-Room-Id", "sectionName:", "- lobby.games.example"},
	"istio-kubernetes-service":        {"name: board-io\n      namespace: realtime\n      port: 3000", "namespace: web", "host: board-io.realtime.svc.cluster.local", "name: io_srv"},
	"istio-affinity-query":            {"httpQueryParameterName: feed", "tableSize: 131071"},
	"gatewayapi-hosts-listeners":      {"sectionName: secure", "- admin.desk.example", "name: desk-secure-admin-desk-example", "value: /live/", "httpHeaderName: X-Desk-Session", "simple: LEAST_REQUEST"},
}

func goldenCases(t *testing.T) []targettest.Case {
	t.Helper()
	return targettest.Cases(t, caseLines, globs)
}

func TestGolden(t *testing.T) { target.Golden(t, goldenCases(t), *update) }

// The DestinationRules and ServiceEntries are Istio's own: the same bytes
// as in istio.yaml, written by the same code.
func TestPoolObjectsAreIstios(t *testing.T) {
	for _, c := range goldenCases(t) {
		gwYAML, err := os.ReadFile(filepath.Join(goldenDir, c.Name, "gateway-api.yaml"))
		require.NoError(t, err)
		istioYAML, err := os.ReadFile(filepath.Join(goldenDir, c.Name, "istio.yaml"))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, doc := range strings.Split(string(gwYAML), "---\n") {
			if strings.HasPrefix(doc, "apiVersion: networking.istio.io/") {
				require.Contains(t, string(istioYAML), doc, c.Name)
			}
		}
	}
}

// The same topology gives the same bytes, run after run: nothing comes
// from map order.
func TestDeterministic(t *testing.T) { target.Deterministic(t, goldenCases(t)) }
