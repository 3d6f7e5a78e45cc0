package gatewayapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
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
	target.Fuzz(f, globs, func(t *testing.T, doc []byte) {
		var obj struct {
			Spec struct {
				Rules []any `json:"rules"`
			} `json:"spec"`
		}
		require.NoError(t, yaml.Unmarshal(doc, &obj), "%s", doc)
		require.LessOrEqual(t, len(obj.Spec.Rules), 16)
	})
}
