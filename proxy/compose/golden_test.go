package compose_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/compose"
	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/topology"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*/compose/ from the generator's output")

const goldenDir = targettest.GoldenDir

// projectFiles are the files of every project, in the order written.
var projectFiles = []string{"docker-compose.yml", "haproxy.cfg", "nginx.conf", ".env", "Dockerfile", ".dockerignore", "README.md"}

// caseLines are lines each case's files must hold, by file: the servers
// moved to the backend network, the listeners published, the affinity
// the proxies keep.
var caseLines = map[string]map[string][]string{
	"chat": {
		"docker-compose.yml": {"${WSLB_PUBLIC_PORT:-8080}:8080", "ipv4_address: 172.16.171.10", "- ws1", "image: ${WSLB_HAPROXY_IMAGE:-haproxy:2.6}", "image: ${WSLB_NGINX_IMAGE:-nginx:1.22}", "condition: service_healthy"},
		"haproxy.cfg":        {"bind :8080", "server ws1 172.16.171.10:8080", "log stderr format short local0 notice", "balance source"},
		"nginx.conf":         {"error_log stderr notice;", "access_log /dev/stdout", "server 172.16.171.14:8080", "daemon off;"},
	},
	"cookie":      {"haproxy.cfg": {"cookie"}, "nginx.conf": {"sticky"}},
	"session-key": {"docker-compose.yml": {"ipv4_address:"}},
	"fanout":      {"README.md": {"message broker is not part of the project"}},
	"socketio":    {"docker-compose.yml": {"--id"}},
	// The affinity modes (the Istio target's cases): each proxy keeps them
	// as its own config does.
	"istio-affinity-none":             {"haproxy.cfg": {"balance leastconn"}},
	"istio-affinity-source-client-ip": {"docker-compose.yml": {"source: /etc/ssl/private/ticker.pem", "read_only: true"}},
	"istio-affinity-cookie-session":   {"haproxy.cfg": {"desk_srv"}, "nginx.conf": {"desk_srv"}},
	"istio-affinity-header":           {"haproxy.cfg": {"X-Room-Id", "bind :9001"}, "docker-compose.yml": {"${WSLB_NATIVE_PORT:-9001}:9001"}},
	"istio-affinity-query":            {"haproxy.cfg": {"feed"}, "nginx.conf": {"$arg_feed"}},
}

type goldenCase struct{ name, path string }

func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	var cases []goldenCase
	for _, glob := range []struct{ pattern, prefix string }{{"../../examples/*.hcl", ""}, {"../../testdata/istio/affinity-*.hcl", "istio-"}} {
		files, err := filepath.Glob(glob.pattern)
		require.NoError(t, err)
		require.NotEmpty(t, files, glob.pattern)
		for _, f := range files {
			name := glob.prefix + strings.TrimSuffix(filepath.Base(f), ".hcl")
			_, ok := caseLines[name]
			require.True(t, ok, "case %s has no expected lines in caseLines", name)
			cases = append(cases, goldenCase{name: name, path: f})
		}
	}
	require.Len(t, cases, len(caseLines), "caseLines names a case that does not exist")
	return cases
}

var load = targettest.Load

func generate(t *testing.T, topo *topology.Topology) map[string]string {
	t.Helper()
	arts, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{compose.Kind}})
	require.NoError(t, err)
	got := map[string]string{}
	var order []string
	for _, a := range arts {
		got[a.Name] = string(a.Bytes)
		order = append(order, a.Name)
	}
	require.Equal(t, projectFiles, order)
	return got
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			got := generate(t, load(t, c.path))
			for _, name := range projectFiles {
				path := filepath.Join(goldenDir, c.name, "compose", name)
				if *update {
					require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
					require.NoError(t, os.WriteFile(path, []byte(got[name]), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run go test ./proxy/compose -update to create the golden files")
				if string(want) != got[name] {
					diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
						A: difflib.SplitLines(string(want)), B: difflib.SplitLines(got[name]),
						FromFile: path, ToFile: "generated", Context: 2,
					})
					t.Fatalf("%s differs from the golden file; review and run go test ./proxy/compose -update:\n%s", path, diff)
				}
			}
			for file, lines := range caseLines[c.name] {
				for _, l := range lines {
					if !strings.Contains(got[file], l) {
						t.Errorf("%s/compose/%s lacks the line %q", c.name, file, l)
					}
				}
			}
			checkProject(t, load(t, c.path), got["docker-compose.yml"])
		})
	}
}

// checkProject decodes docker-compose.yml and checks its shape: one
// service per proxy (a profile each) and per server, every server's
// backend named after it at a distinct address of the backend network,
// and every proxy depending on every backend's health.
func checkProject(t *testing.T, topo *topology.Topology, file string) {
	t.Helper()
	var f struct {
		Version  string `yaml:"version"`
		Services map[string]struct {
			Image    string         `yaml:"image"`
			Profiles []string       `yaml:"profiles"`
			Command  []string       `yaml:"command"`
			Networks any            `yaml:"networks"`
			Depends  map[string]any `yaml:"depends_on"`
		} `yaml:"services"`
		Networks map[string]struct {
			Internal bool `yaml:"internal"`
		} `yaml:"networks"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(file), &f))
	require.Equal(t, "3.9", f.Version)
	require.True(t, f.Networks["backend"].Internal)
	servers := map[string]bool{}
	for _, p := range topo.Pools {
		for _, s := range p.Servers {
			servers[s.Name] = true
		}
	}
	ids := map[string]bool{}
	proxies := 0
	for name, s := range f.Services {
		if len(s.Profiles) > 0 {
			proxies++
			require.Equal(t, []string{name}, s.Profiles)
			require.Len(t, s.Depends, len(f.Services)-2, "%s waits for every backend", name)
			continue
		}
		require.GreaterOrEqual(t, len(s.Command), 3, name)
		require.Equal(t, []string{"echo", "--id"}, s.Command[:2], name)
		ids[s.Command[2]] = true
	}
	require.Equal(t, 2, proxies)
	require.Equal(t, servers, ids, "one backend per server, named as the server")
}

// The same topology gives the same bytes, run after run.
func TestDeterministic(t *testing.T) {
	for _, c := range goldenCases(t) {
		first := generate(t, load(t, c.path))
		for range 3 {
			require.Equal(t, first, generate(t, load(t, c.path)), c.name)
		}
	}
}
