package istio_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/testutil"
)

// The Istio YAML is checked by Istio's own validation (testutil.IstioCheck).

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveIstioCheck()
	os.Exit(code)
}

func TestGoldenPassesIstioValidation(t *testing.T) { target.GoldenPassValidation(t, goldenCases(t)) }

// The checker refuses what the API server would: each mistake below is
// one a hand-made or drifted generator could make.
func TestIstioValidationRefusesMistakes(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(goldenDir, "chat", "istio.yaml"))
	require.NoError(t, err)
	for _, c := range []struct{ name, from, to, want string }{
		{"64-bit integer as a string", "minimumRingSize: 1024", `minimumRingSize: "1024"`, "must be of type integer"},
		{"misspelled field", "useSourceIp: true", "useSourceIP: true", `unknown field "spec.trafficPolicy.loadBalancer.consistentHash.useSourceIP"`},
		{"unknown enum value", "simple: ROUND_ROBIN", "simple: ROUNDROBIN", "Unsupported value"},
		{"CEL rule", "number: 8080\n    protocol: HTTP", "number: 80800\n    protocol: HTTP", "port must be between 1-65535"},
		{"bad duration", "baseEjectionTime: 4s", "baseEjectionTime: 4x", "must be a valid duration"},
		{"invalid name", "name: chat-web", "name: Chat_Web", "RFC 1123 subdomain"},
		{"regex RE2 cannot compile (Istio's semantic validation)", "regex: (?i)websocket", "regex: (?i)websocket[", "istio validation"},
		{"wrong version", "apiVersion: networking.istio.io/v1\nkind: DestinationRule", "apiVersion: networking.istio.io/v2\nkind: DestinationRule", "no CRD serves"},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Contains(t, string(good), c.from)
			path := filepath.Join(t.TempDir(), "istio.yaml")
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(good), c.from, c.to, 1)), 0o644))
			out, err := testutil.IstioCheck(t, path)
			require.Error(t, err, out)
			require.Contains(t, out, c.want)
		})
	}
}
