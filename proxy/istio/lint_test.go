package istio_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/validate"
)

// The YAML generate writes for every example and affinity mode passes
// every Istio rule of validate (WSLB3xx): the generator and the linter
// agree on what a good mesh config is.
func TestGeneratedYAMLPassesValidate(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			b := generate(t, c.path)
			kind, ok := validate.Detect("generated", b)
			require.True(t, ok)
			require.Equal(t, istio.Kind, kind, "the content alone says Istio")
			res, err := validate.Lint(context.Background(), []validate.Source{{Name: c.name + "/istio.yaml", Bytes: b}}, validate.Options{})
			require.NoError(t, err)
			require.Empty(t, res.Findings, "%s", res.Findings)
		})
	}
}
