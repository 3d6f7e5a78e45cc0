// Package targettest holds what the proxy targets' tests share: running
// the CLI, and for the config-only targets (Istio, Gateway API) the
// golden cases, the golden and determinism checks, the fuzz invariant,
// and that generate writes the target only when named while verify does
// not offer it.
package targettest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

// GoldenDir holds the golden files, seen from a target's package
// (proxy/<target>).
const GoldenDir = "../../testdata/golden"

// Run runs wslb with args and no standard input.
func Run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = cli.Run(context.Background(), args, cli.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// Glob matches topologies; their case names are Prefix and the file's
// base name without .hcl.
type Glob struct{ Pattern, Prefix string }

// Case is a topology and what its YAML must hold, so that a regression
// names what is missing rather than only "golden differs".
type Case struct {
	Name  string
	Path  string
	Lines []string
}

// Cases are the topologies globs match, each with its lines from lines.
// A topology without lines, or lines naming no topology, fail t.
func Cases(t *testing.T, lines map[string][]string, globs []Glob) []Case {
	t.Helper()
	var cases []Case
	for _, glob := range globs {
		files, err := filepath.Glob(glob.Pattern)
		require.NoError(t, err)
		require.NotEmpty(t, files, glob.Pattern)
		for _, f := range files {
			name := glob.Prefix + strings.TrimSuffix(filepath.Base(f), ".hcl")
			l, ok := lines[name]
			require.True(t, ok, "case %s has no expected lines in caseLines", name)
			cases = append(cases, Case{Name: name, Path: f, Lines: l})
		}
	}
	require.Len(t, cases, len(lines), "caseLines names a case that does not exist")
	return cases
}

// Load loads the topology at path, failing t on any error.
func Load(t *testing.T, path string) *topology.Topology {
	t.Helper()
	topo, diags := topology.NewLoader().LoadFile(path)
	require.False(t, diags.HasErrors(), "%s: %s", path, diags.Error())
	return topo
}

// Target is the config-only target under test.
type Target struct {
	Kind proxy.Kind
	Name string // what --proxy takes
	File string // the one file generate writes
	Pkg  string // the package, as go test names it, for the -update hint
}

// Generate renders topo for the target and returns its one file.
func (tg Target) Generate(t *testing.T, topo *topology.Topology) []byte {
	t.Helper()
	arts, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{tg.Kind}})
	require.NoError(t, err)
	require.Len(t, arts, 1)
	require.Equal(t, tg.File, arts[0].Name)
	return arts[0].Bytes
}

// Golden compares each case's output with its golden file, rewriting the
// file first when update is set, and checks the case's lines are in it.
func (tg Target) Golden(t *testing.T, cases []Case, update bool) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got := tg.Generate(t, Load(t, c.Path))
			path := filepath.Join(GoldenDir, c.Name, tg.File)
			if update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test %s -update to create the golden files", tg.Pkg)
			if string(want) != string(got) {
				diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
					A: difflib.SplitLines(string(want)), B: difflib.SplitLines(string(got)),
					FromFile: path, ToFile: "generated", Context: 2,
				})
				t.Fatalf("%s differs from the golden file; review and run go test %s -update:\n%s", path, tg.Pkg, diff)
			}
			for _, l := range c.Lines {
				if !strings.Contains(string(got), l) {
					t.Errorf("%s/%s lacks the line %q", c.Name, tg.File, l)
				}
			}
		})
	}
}

// Deterministic checks the same topology gives the same bytes, run after
// run: nothing comes from map order.
func (tg Target) Deterministic(t *testing.T, cases []Case) {
	for _, c := range cases {
		first := tg.Generate(t, Load(t, c.Path))
		for range 5 {
			require.Equal(t, string(first), string(tg.Generate(t, Load(t, c.Path))), c.Name)
		}
	}
}

// Seed adds every file the patterns match to f's seed corpus.
func Seed(f *testing.F, patterns ...string) {
	f.Helper()
	for _, pattern := range patterns {
		files, err := filepath.Glob(pattern)
		require.NoError(f, err)
		for _, file := range files {
			src, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(src)
		}
	}
}

// Fuzz feeds HCL, seeded with the topologies globs match, through the
// loader and the target's generator. The invariant: the loader rejects
// the input, or the generator writes YAML whose every document is an
// object with an apiVersion, a kind and a name, and passes check when
// check is not nil.
func (tg Target) Fuzz(f *testing.F, globs []Glob, check func(t *testing.T, doc []byte)) {
	for _, glob := range globs {
		Seed(f, glob.Pattern)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		topo, diags := topology.NewLoader().Load("fuzz.hcl", src)
		if diags.HasErrors() {
			return
		}
		arts, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{tg.Kind}})
		require.NoError(t, err, "the loader accepted a topology the %s generator cannot render:\n%s", tg.Name, src)
		docs := bytes.Split(arts[0].Bytes, []byte("\n---\n"))
		require.Greater(t, len(docs), 1)
		for _, doc := range docs[1:] {
			var obj struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			require.NoError(t, yaml.Unmarshal(doc, &obj), "%s", doc)
			require.NotEmpty(t, obj.APIVersion)
			require.NotEmpty(t, obj.Kind)
			require.NotEmpty(t, obj.Metadata.Name)
			if check != nil {
				check(t, doc)
			}
		}
	})
}

// GenerateOnlyWhenNamed checks generate writes the target's YAML (the
// golden chat file) when --proxy names it, and only then: a plain
// `generate -o DIR` keeps writing the configs of the proxies wslb runs.
func (tg Target) GenerateOnlyWhenNamed(t *testing.T) {
	code, stdout, stderr := Run(t, "generate", "../../examples/chat.hcl", "--proxy", tg.Name)
	require.Equal(t, cli.ExitOK, code, stderr)
	want, err := os.ReadFile(filepath.Join(GoldenDir, "chat", tg.File))
	require.NoError(t, err)
	require.Equal(t, string(want), stdout)

	dir := t.TempDir()
	code, _, stderr = Run(t, "generate", "../../examples/chat.hcl", "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"haproxy.cfg", "nginx.conf"}, names)

	code, _, stderr = Run(t, "generate", "../../examples/chat.hcl", "--proxy", tg.Name, "-o", dir)
	require.Equal(t, cli.ExitOK, code, stderr)
	got, err := os.ReadFile(filepath.Join(dir, tg.File))
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	code, _, stderr = Run(t, "generate", "../../examples/chat.hcl", "--proxy", tg.Name, "-o", dir, "--check")
	require.Equal(t, cli.ExitOK, code, stderr)
}

// ConfigOnly checks the target is one generate writes and verify cannot
// run: the registry lists it as a target, not a proxy, verify refuses it
// and generate's completion offers it.
func (tg Target) ConfigOnly(t *testing.T) {
	_, ok := proxy.Lookup(tg.Name)
	require.False(t, ok)
	d, ok := proxy.LookupTarget(tg.Name)
	require.True(t, ok)
	require.Equal(t, tg.Kind, d.Name)
	require.NotContains(t, proxy.Names(), tg.Name)
	require.Contains(t, proxy.TargetNames(), tg.Name)
	require.Equal(t, tg.File, generator.FileName(tg.Kind))

	code, _, stderr := Run(t, "verify", "../../examples/chat.hcl", "--proxy", tg.Name)
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, stderr, "--proxy must be haproxy, nginx or all")

	code, stdout, stderr := Run(t, "__complete", "generate", "x.hcl", "--proxy", "")
	require.Equal(t, cli.ExitOK, code, stderr)
	require.Contains(t, stdout, tg.Name+"\n")
}

// GoldenPassValidation checks every case's golden file passes the CRD
// schemas and Istio's validation (testutil.IstioCheck).
func (tg Target) GoldenPassValidation(t *testing.T, cases []Case) {
	var files []string
	for _, c := range cases {
		files = append(files, filepath.Join(GoldenDir, c.Name, tg.File))
	}
	out, err := testutil.IstioCheck(t, files...)
	require.NoError(t, err, out)
	require.Contains(t, out, ", 0 problems, 0 warnings")
	require.NotContains(t, out, " 0 objects checked")
}

// Edges are shapes the loader allows that no golden file has, as changes
// to examples/chat.hcl, which both targets must render.
func Edges() map[string]func(*topology.Topology) {
	return map[string]func(*topology.Topology){
		"no routes": func(t *topology.Topology) { t.Routes = nil },
		"two listeners on one port": func(t *topology.Topology) {
			t.Listeners = append(t.Listeners, &topology.Listener{Name: "second", Address: topology.Address{Host: "127.0.0.2", Port: t.Listeners[0].Address.Port},
				TLS: &topology.TLS{Certificate: "/etc/ssl/x.pem", Profile: topology.TLSIntermediate}})
			t.Routes[0].Listener = "second"
		},
		"a hundred allowed origins": func(t *topology.Topology) {
			for i := range 100 {
				t.Security.AllowedOrigins = append(t.Security.AllowedOrigins, "https://app"+strconv.Itoa(i)+".example.test")
			}
		},
		"a websocket-only host route on one listener, no handshake without Origin": func(t *topology.Topology) {
			t.Routes = append([]*topology.Route{{Name: "h", Listener: t.Listeners[0].Name, Host: "a.example", PathPrefix: "/ws/", WebSocketOnly: true, Pool: t.Pools[0].Name}}, t.Routes...)
			t.Security.AllowedOrigins = []string{"https://a.example"}
			t.Security.AllowMissingOrigin = false
		},
	}
}

// EdgesPassValidation generates examples/chat.hcl changed by each of
// edges, hands each output to check when check is not nil, and checks
// testutil.IstioCheck accepts them all.
func (tg Target) EdgesPassValidation(t *testing.T, edges map[string]func(*topology.Topology), check func(t *testing.T, name string, yaml []byte)) {
	dir := t.TempDir()
	var files []string
	for name, mutate := range edges {
		topo := Load(t, "../../examples/chat.hcl")
		mutate(topo)
		y := tg.Generate(t, topo)
		if check != nil {
			check(t, name, y)
		}
		path := filepath.Join(dir, strings.NewReplacer(" ", "-", ",", "", ":", "").Replace(name)+".yaml")
		require.NoError(t, os.WriteFile(path, y, 0o644))
		files = append(files, path)
	}
	out, err := testutil.IstioCheck(t, files...)
	require.NoError(t, err, out)
	require.Contains(t, out, ", 0 problems, 0 warnings")
}
