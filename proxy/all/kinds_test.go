package all_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	_ "github.com/wslb/wslb/proxy/all"
	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/proxy/rewrite"
	"github.com/wslb/wslb/topology"
	"github.com/wslb/wslb/validate"
)

// The kind each command decides for a file: validate lints it as, verify
// rewrites and runs it as, and generate writes that kind's config as.
func validateKind(path string, b []byte) proxy.Kind {
	k, _ := validate.Detect(path, b)
	return k
}

func verifyKind(path string, b []byte) proxy.Kind { return rewrite.DetectKind(path, b) }

// generateKind is the kind whose generated config file would be named
// like path's base name, or the detected kind otherwise: generate --check
// reads the file named after the descriptor's ConfigName.
func generateKind(path string, b []byte) proxy.Kind {
	for _, d := range proxy.All() {
		if filepath.Base(path) == d.ConfigName && proxy.DetectKind(path, b) == d.Name {
			return d.Name
		}
	}
	return proxy.DetectKind(path, b)
}

// expectedKinds reads testdata/kinds/expected.txt: the right kind of each
// unseen config there.
func expectedKinds(t *testing.T) map[string]proxy.Kind {
	f, err := os.Open("../../testdata/kinds/expected.txt")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]proxy.Kind{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, kind, ok := strings.Cut(line, "\t")
		require.True(t, ok, "expected.txt: %q", line)
		out[filepath.Join("../../testdata/kinds", name)] = proxy.Kind(kind)
	}
	require.NoError(t, sc.Err())
	return out
}

// configKind is the kind of an existing testdata config by its extension
// (.cfg HAProxy, .conf and NGINX's .inc includes NGINX), which every such
// file in testdata/ follows; .yaml and .yml files holding Istio or
// Gateway API objects are Istio's (other Kubernetes YAML, such as a load
// Job, is no proxy's config).
func configKind(path string, b []byte) (proxy.Kind, bool) {
	switch filepath.Ext(path) {
	case ".cfg":
		return "haproxy", true
	case ".conf", ".inc":
		return "nginx", true
	case ".yaml", ".yml":
		if bytes.Contains(b, []byte("networking.istio.io/")) || bytes.Contains(b, []byte("gateway.networking.k8s.io/")) {
			return "istio", true
		}
	}
	return "", false
}

func TestCommandsAgreeOnEveryConfigKind(t *testing.T) {
	want := expectedKinds(t)
	require.GreaterOrEqual(t, len(want), 8)
	checked := 0
	err := filepath.WalkDir("../../testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		kind, ok := want[path]
		if !ok && !strings.HasPrefix(path, "../../testdata/kinds/") {
			kind, ok = configKind(path, b)
		}
		if !ok {
			return nil
		}
		require.Equal(t, kind, validateKind(path, b), "validate: %s", path)
		require.Equal(t, kind, verifyKind(path, b), "verify: %s", path)
		require.Equal(t, kind, generateKind(path, b), "generate: %s", path)
		checked++
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, checked, 300, "too few configs found in testdata")
	for path := range want {
		_, err := os.Stat(path)
		require.NoError(t, err, "expected.txt names a missing file")
	}
}

// Every config generate writes is detected as the proxy it was generated
// for, by every command.
func TestGeneratedConfigsAreDetectedAsTheirProxy(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		topo, diags := topology.NewLoader().LoadFile(f)
		require.False(t, diags.HasErrors(), "%s: %s", f, diags.Error())
		arts, err := generator.Generate(topo, generator.Options{})
		require.NoError(t, err)
		// Istio, a config-only target, is written only when named.
		mesh, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{istio.Kind}})
		require.NoError(t, err)
		for _, a := range append(arts, mesh...) {
			// Under a neutral name, so that only the content tells.
			for _, name := range []string{a.Name, "generated"} {
				require.Equal(t, a.Kind, validateKind(name, a.Bytes), "validate: %s %s", f, name)
				require.Equal(t, a.Kind, verifyKind(name, a.Bytes), "verify: %s %s", f, name)
				require.Equal(t, a.Kind, generateKind(name, a.Bytes), "generate: %s %s", f, name)
			}
		}
	}
}

func TestDetectReason(t *testing.T) {
	d, why, ok := proxy.Detect("edge.cfg", []byte("events {}\nhttp { server { listen 80; } }\n"))
	require.True(t, ok)
	require.Equal(t, proxy.Kind("nginx"), d.Name)
	require.Equal(t, "content", why)
	d, why, ok = proxy.Detect("x.cfg", nil)
	require.True(t, ok)
	require.Equal(t, proxy.Kind("haproxy"), d.Name)
	require.Equal(t, "file name", why)
	_, _, ok = proxy.Detect("notes.txt", []byte("hello\nworld\n"))
	require.False(t, ok)
}
