package topology_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/topology"
)

// The examples are the product's showcase: they must load without a single
// diagnostic.
func TestExamplesLoadCleanly(t *testing.T) {
	files, err := filepath.Glob("../examples/*.hcl")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			l := topology.NewLoader()
			topo, diags := l.LoadFile(f)
			require.Empty(t, diags, "%s", diags)
			require.NotNil(t, topo)
			require.NotEmpty(t, topo.Listeners)
			require.NotEmpty(t, topo.Routes)
			require.NotEmpty(t, topo.Pools)
		})
	}
}
