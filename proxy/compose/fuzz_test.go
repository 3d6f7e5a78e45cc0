package compose_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/compose"
	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/topology"
)

// composeShape is what the tests read back from docker-compose.yml.
type composeShape struct {
	Services map[string]struct {
		Command []string `yaml:"command"`
		Volumes []struct {
			Source string `yaml:"source"`
		} `yaml:"volumes"`
	} `yaml:"services"`
	Networks map[string]any `yaml:"networks"`
}

// refusals are the topologies the loader takes and a compose project
// cannot hold.
var refusals = []string{"both use port", "give an absolute path", "the backend network holds"}

// FuzzGenerate feeds HCL through the loader and the compose target. The
// invariant: the loader rejects the input, the target refuses it with
// one of its reasons, or docker-compose.yml decodes to exactly the
// services and networks the project plans, each backend named after its
// server.
//
//	go test ./proxy/compose -run '^$' -fuzz FuzzGenerate -fuzztime 1m
func FuzzGenerate(f *testing.F) {
	targettest.Seed(f, "../../examples/*.hcl", "../../testdata/istio/affinity-*.hcl")
	f.Fuzz(func(t *testing.T, src []byte) {
		topo, diags := topology.NewLoader().Load("fuzz.hcl", src)
		if diags.HasErrors() {
			return
		}
		arts, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{compose.Kind}})
		if err != nil {
			for _, r := range refusals {
				if strings.Contains(err.Error(), r) {
					return
				}
			}
			if topology.CheckAddresses(topo, "", "") != nil {
				return
			}
			t.Fatalf("the loader accepted a topology the compose target cannot write: %v\n%s", err, src)
		}
		checkServices(t, topo, arts[0].Bytes)
	})
}

// checkServices decodes docker-compose.yml and wants exactly the
// project's services: the proxies and one per backend, whose command
// names the server as written (compose's '$' escaped).
func checkServices(t *testing.T, topo *topology.Topology, file []byte) {
	t.Helper()
	p, err := compose.NewProject(topo)
	require.NoError(t, err)
	var got composeShape
	require.NoError(t, yaml.Unmarshal(file, &got), "%s", file)
	want := map[string]bool{}
	for _, px := range p.Proxies {
		want[px.Service] = true
	}
	for _, b := range p.Backends {
		want[b.Service] = true
		s, ok := got.Services[b.Service]
		require.True(t, ok, "no service %q", b.Service)
		require.Equal(t, []string{"echo", "--id", strings.ReplaceAll(b.ID, "$", "$$"), "--listen", "0.0.0.0:" + strconv.Itoa(int(b.Addr.Port()))}, s.Command)
	}
	have := map[string]bool{}
	for name := range got.Services {
		have[name] = true
	}
	require.Equal(t, want, have)
	require.Len(t, got.Networks, 2)
}

// Values the loader's grammar never lets through still cannot open keys
// of their own in docker-compose.yml, end the header comment or reach
// compose's interpolation: the file is encoded, not pasted together, and
// every '$' of the topology is escaped.
func TestHostileValuesStayValues(t *testing.T) {
	evil := "ws1\nservices:\n  evil:\n    image: evil\n    privileged: true\n#"
	cert := "/etc/ssl/private/chat.pem"
	topo := &topology.Topology{
		Name:     "chat\"\nservices: {evil: {image: evil}}",
		Filename: "dir/x\n- evil: 1.hcl",
		Targets:  topology.DefaultTargets(),
		Listeners: []*topology.Listener{{
			Name: "pub\n  evil: 1", Address: topology.Address{Host: "0.0.0.0", Port: 8443},
			TLS: &topology.TLS{Certificate: cert, Profile: topology.TLSIntermediate},
		}},
		Pools: []*topology.Pool{{
			Name: "p", Balance: topology.BalanceRoundRobin, Affinity: topology.Affinity{Mode: topology.AffinityNone},
			Servers: []*topology.Server{
				{Name: evil, Address: topology.Address{Host: "10.0.0.1", Port: 80}, Weight: 1},
				{Name: "${EVIL:-x}$(id)", Address: topology.Address{Host: "10.0.0.2", Port: 80}, Weight: 1},
				{Name: "haproxy", Address: topology.Address{Host: "10.0.0.3", Port: 80}, Weight: 1},
			},
		}},
		Routes: []*topology.Route{{Name: "r", PathPrefix: "/", Pool: "p", Range: hcl.Range{}}},
	}
	p, err := compose.NewProject(topo)
	require.NoError(t, err)
	file, err := p.ComposeYAML()
	require.NoError(t, err)
	checkServices(t, topo, file)

	var got composeShape
	require.NoError(t, yaml.Unmarshal(file, &got))
	require.NotContains(t, got.Services, "evil")
	// The server named "haproxy" does not take the proxy's service.
	require.Contains(t, got.Services, "haproxy-2")
	require.Equal(t, "${EVIL:-x}$(id)", p.Backends[1].ID)
	require.Equal(t, []string{"echo", "--id", "$${EVIL:-x}$$(id)", "--listen", "0.0.0.0:80"}, got.Services[p.Backends[1].Service].Command)
	var sources []string
	for _, v := range got.Services["haproxy"].Volumes {
		sources = append(sources, v.Source)
	}
	require.Contains(t, sources, cert)
	// The header is comments to its last line.
	header, _, ok := strings.Cut(string(file), "version:")
	require.True(t, ok)
	for _, l := range strings.Split(strings.TrimSuffix(header, "\n"), "\n") {
		require.True(t, strings.HasPrefix(l, "# "), "header line %q", l)
	}
	readme, err := p.Readme()
	require.NoError(t, err)
	require.NotEmpty(t, readme)
}
