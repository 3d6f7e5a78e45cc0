package gatewayapi_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/proxy/gatewayapi"
	"github.com/wslb/wslb/topology"
)

// FuzzGenerate feeds HCL through the loader and the Gateway API
// generator. The invariant: the loader rejects the input, or the
// generator writes YAML whose every document is an object with an
// apiVersion, a kind and a name, and whose HTTPRoutes stay within the
// CRD's 16 rules. (The schema check runs on the golden and edge files:
// too slow to run per input.)
//
//	go test ./proxy/gatewayapi -run '^$' -fuzz FuzzGenerate -fuzztime 1m
func FuzzGenerate(f *testing.F) {
	for _, glob := range []string{"../../examples/*.hcl", "../../testdata/istio/*.hcl", "../../testdata/gatewayapi/*.hcl"} {
		files, err := filepath.Glob(glob)
		require.NoError(f, err)
		for _, file := range files {
			src, err := os.ReadFile(file)
			require.NoError(f, err)
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		topo, diags := topology.NewLoader().Load("fuzz.hcl", src)
		if diags.HasErrors() {
			return
		}
		arts, err := generator.Generate(topo, generator.Options{Kinds: []proxy.Kind{gatewayapi.Kind}})
		require.NoError(t, err, "the loader accepted a topology the Gateway API generator cannot render:\n%s", src)
		docs := bytes.Split(arts[0].Bytes, []byte("\n---\n"))
		require.Greater(t, len(docs), 1)
		for _, doc := range docs[1:] {
			var obj struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Spec struct {
					Rules []any `json:"rules"`
				} `json:"spec"`
			}
			require.NoError(t, yaml.Unmarshal(doc, &obj), "%s", doc)
			require.NotEmpty(t, obj.APIVersion)
			require.NotEmpty(t, obj.Kind)
			require.NotEmpty(t, obj.Metadata.Name)
			require.LessOrEqual(t, len(obj.Spec.Rules), 16)
		}
	})
}
