package gatewayapi_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/gatewayapi"
	"github.com/wslb/wslb/topology"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/gateway-api.yaml from the generator's output")

const goldenDir = "../../testdata/golden"

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveIstioCheck()
	os.Exit(code)
}

// goldenCase is a topology and what its YAML must hold, so that a
// regression names what is missing rather than only "golden differs".
type goldenCase struct {
	name  string
	path  string
	lines []string
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

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	for _, glob := range []struct{ pattern, prefix string }{
		{"../../examples/*.hcl", ""}, {"../../testdata/istio/*.hcl", "istio-"}, {"../../testdata/gatewayapi/*.hcl", "gatewayapi-"},
	} {
		files, err := filepath.Glob(glob.pattern)
		require.NoError(t, err)
		require.NotEmpty(t, files, glob.pattern)
		for _, f := range files {
			name := glob.prefix + strings.TrimSuffix(filepath.Base(f), ".hcl")
			lines, ok := caseLines[name]
			require.True(t, ok, "case %s has no expected lines in caseLines", name)
			cases = append(cases, goldenCase{name: name, path: f, lines: lines})
		}
	}
	require.Len(t, cases, len(caseLines), "caseLines names a case that does not exist")
	return cases
}

func load(t *testing.T, path string) *topology.Topology {
	t.Helper()
	topo, diags := topology.NewLoader().LoadFile(path)
	require.False(t, diags.HasErrors(), "%s: %s", path, diags.Error())
	return topo
}

func generate(t *testing.T, topo *topology.Topology) []byte {
	t.Helper()
	arts, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{gatewayapi.Kind}})
	require.NoError(t, err)
	require.Len(t, arts, 1)
	require.Equal(t, "gateway-api.yaml", arts[0].Name)
	return arts[0].Bytes
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := generate(t, load(t, c.path))
			path := filepath.Join(goldenDir, c.name, "gateway-api.yaml")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./proxy/gatewayapi -update to create the golden files")
			if string(want) != string(got) {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
					FromFile: path, ToFile: "generated", Context: 2,
				})
				t.Fatalf("%s differs from the golden file; review and run go test ./proxy/gatewayapi -update:\n%s", path, diff)
			}
			for _, l := range c.lines {
				if !strings.Contains(string(got), l) {
					t.Errorf("%s/gateway-api.yaml lacks the line %q", c.name, l)
				}
			}
		})
	}
}

// The DestinationRules and ServiceEntries are Istio's own: the same bytes
// as in istio.yaml, written by the same code.
func TestPoolObjectsAreIstios(t *testing.T) {
	for _, c := range goldenCases(t) {
		gwYAML, err := os.ReadFile(filepath.Join(goldenDir, c.name, "gateway-api.yaml"))
		require.NoError(t, err)
		istioYAML, err := os.ReadFile(filepath.Join(goldenDir, c.name, "istio.yaml"))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, doc := range strings.Split(string(gwYAML), "---\n") {
			if strings.HasPrefix(doc, "apiVersion: networking.istio.io/") {
				require.Contains(t, string(istioYAML), doc, c.name)
			}
		}
	}
}

// The same topology gives the same bytes, run after run: nothing comes
// from map order.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases(t) {
		first := generate(t, load(t, c.path))
		for range 5 {
			require.Equal(t, string(first), string(generate(t, load(t, c.path))), c.name)
		}
	}
}
