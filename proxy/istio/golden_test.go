package istio_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/topology"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/istio.yaml from the generator's output")

const goldenDir = "../../testdata/golden"

// goldenCase is a topology and what its Istio YAML must hold, so that a
// regression names what is missing rather than only "golden differs".
type goldenCase struct {
	name  string
	path  string
	lines []string
}

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

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	for _, glob := range []struct{ pattern, prefix string }{{"../../examples/*.hcl", ""}, {"../../testdata/istio/*.hcl", "istio-"}} {
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

func generate(t *testing.T, path string) []byte {
	t.Helper()
	arts, err := generator.Generate(load(t, path), generator.Options{Kinds: []proxy.Kind{istio.Kind}})
	require.NoError(t, err)
	require.Len(t, arts, 1)
	require.Equal(t, "istio.yaml", arts[0].Name)
	return arts[0].Bytes
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := generate(t, c.path)
			path := filepath.Join(goldenDir, c.name, "istio.yaml")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./proxy/istio -update to create the golden files")
			if string(want) != string(got) {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
					FromFile: path, ToFile: "generated", Context: 2,
				})
				t.Fatalf("%s differs from the golden file; review and run go test ./proxy/istio -update:\n%s", path, diff)
			}
			for _, l := range c.lines {
				if !strings.Contains(string(got), l) {
					t.Errorf("%s/istio.yaml lacks the line %q", c.name, l)
				}
			}
		})
	}
}

// The same topology gives the same bytes, run after run: nothing comes
// from map order.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases(t) {
		first := generate(t, c.path)
		for range 5 {
			require.Equal(t, string(first), string(generate(t, c.path)), c.name)
		}
	}
}
