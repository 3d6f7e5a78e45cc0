package istio_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/proxy/istio"
	"github.com/wslb/wslb/validate"
)

// The YAML generate writes for every example and affinity mode passes
// every Istio rule of validate (WSLB3xx): the generator and the linter
// agree on what a good mesh config is. The one exception is true of the
// generated file too: a source-address hash (useSourceIp) draws WSLB302's
// note, since whether the gateway sees client addresses is decided by its
// Service and load balancer, which wslb does not write.
func TestGeneratedYAMLPassesValidate(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			b := target.Generate(t, targettest.Load(t, c.Path))
			kind, ok := validate.Detect("generated", b)
			require.True(t, ok)
			require.Equal(t, istio.Kind, kind, "the content alone says Istio")
			res, err := validate.Lint(context.Background(), []validate.Source{{Name: c.Name + "/istio.yaml", Bytes: b}}, validate.Options{})
			require.NoError(t, err)
			for _, f := range res.Findings {
				require.Equal(t, "WSLB302", f.Rule, "%+v", f)
				require.Equal(t, "useSourceIp", lineAt(b, f.Line, f.Column), "%+v", f)
			}
			require.Equal(t, strings.Count(string(b), "useSourceIp: true"), len(res.Findings), "%+v", res.Findings)
		})
	}
}

// lineAt is the word at line:col of text.
func lineAt(text []byte, line, col int) string {
	lines := strings.Split(string(text), "\n")
	if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1]) {
		return ""
	}
	word, _, _ := strings.Cut(lines[line-1][col-1:], ":")
	return word
}
