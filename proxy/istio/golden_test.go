package istio_test

import (
	"flag"
	"testing"

	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/proxy/istio"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/istio.yaml from the generator's output")

const goldenDir = targettest.GoldenDir

var target = targettest.Target{Kind: istio.Kind, Name: "istio", File: "istio.yaml", Pkg: "./proxy/istio"}

// globs are the topologies the golden files and the fuzz seeds come from.
var globs = []targettest.Glob{{Pattern: "../../examples/*.hcl"}, {Pattern: "../../testdata/istio/*.hcl", Prefix: "istio-"}}

// caseLines are the lines each case's YAML must hold: every affinity mode
// maps to its consistentHash field.
var caseLines = map[string][]string{
	"chat":                            {"useSourceIp: true", "minimumRingSize: 1024", "maxEjectionPercent: 66", "h2UpgradePolicy: DO_NOT_UPGRADE", "idleTimeout: 3600s", "regex: (?i)^(https://chat\\.example\\.com)$"},
	"cookie":                          {"name: WSLB_SRV", "ttl: 43200s", "path: /", "idleTimeout: 7200s", "status: 403"},
	"session-key":                     {"httpQueryParameterName: room", "httpHeaderName: X-Session-Id"},
	"fanout":                          {"simple: LEAST_REQUEST"},
	"socketio":                        {"name: io_srv", "ttl: 0s", "prefix: /socket.io/"},
	"istio-affinity-none":             {"simple: LEAST_REQUEST", "regex: (?i)websocket"},
	"istio-affinity-source-client-ip": {"useSourceIp: true", "protocol: HTTPS", "minProtocolVersion: TLSV1_0", "maxConnections: 5000", "consecutive5xxErrors: 2", "baseEjectionTime: 15s"},
	"istio-affinity-cookie-session":   {"name: desk_srv", "ttl: 0s", "- name: Secure", "resolution: DNS", "name: desk-app-agents-1", "withoutHeaders:"},
	"istio-affinity-header":           {"httpHeaderName: X-Room-Id", "port: 9001", "regex: (?i)^lobby\\.games\\.example(:[0-9]+)?$", "minimumRingSize: 1024"},
	"istio-kubernetes-service":        {"host: board-io.realtime.svc.cluster.local", "host: board-web.web.svc.cluster.local", "name: io_srv", "ttl: 3600s", "maxEjectionPercent: 50"},
	"istio-affinity-query":            {"httpQueryParameterName: feed", "tableSize: 131071", "maxConnections: 50000", "idleTimeout: 1800s", "connectTimeout: 2s"},
}

func goldenCases(t *testing.T) []targettest.Case {
	t.Helper()
	return targettest.Cases(t, caseLines, globs)
}

func TestGolden(t *testing.T) { target.Golden(t, goldenCases(t), *update) }

// The same topology gives the same bytes, run after run: nothing comes
// from map order.
func TestDeterministic(t *testing.T) { target.Deterministic(t, goldenCases(t)) }
