package validate

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/generator"
	"github.com/wslb/wslb/topology"
)

// TestDogfoodGeneratedConfigs lints every config wslb generate writes for
// the examples: wslb's own output must carry no error and no warning.
func TestDogfoodGeneratedConfigs(t *testing.T) {
	examples, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	for _, ex := range examples {
		t.Run(filepath.Base(ex), func(t *testing.T) {
			t.Parallel()
			topo, diags := topology.NewLoader().LoadFile(ex)
			require.False(t, diags.HasErrors(), "%s: %s", ex, diags.Error())
			arts, err := generator.Generate(topo, generator.Options{})
			require.NoError(t, err)
			require.NotEmpty(t, arts)
			var srcs []Source
			for _, a := range arts {
				srcs = append(srcs, Source{Name: filepath.Base(ex) + "/" + a.Name, Kind: a.Kind, Bytes: a.Bytes})
			}
			opts := Options{}
			opts.SetVersion(Nginx, topo.Targets.Version(string(Nginx)))
			res, err := Lint(context.Background(), srcs, opts)
			require.NoError(t, err)
			var bad []Finding
			for _, f := range res.Findings {
				if f.Severity >= Warning {
					bad = append(bad, f)
				}
			}
			require.Empty(t, bad, "generated configs for %s have findings:%s", ex, describe(Result{Findings: bad}))
		})
	}
}
