package gatewayapi_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/testutil"
	"github.com/wslb/wslb/proxy/internal/targettest"
	"github.com/wslb/wslb/topology"
)

// Every golden file passes the Gateway API's CRD schemas (standard
// channel, with their CEL rules) and, for the Istio objects in it, Istio's
// schemas and semantic validation: testutil.IstioCheck.
func TestGoldenPassesValidation(t *testing.T) { target.GoldenPassValidation(t, goldenCases(t)) }

// The checker refuses what the API server would: each mistake below is
// one a hand-made or drifted generator could make.
func TestValidationRefusesMistakes(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(goldenDir, "chat", "gateway-api.yaml"))
	require.NoError(t, err)
	type mistake struct{ name, from, to, want string }
	dir := t.TempDir()
	var files []string
	want := map[string]mistake{}
	for _, c := range []mistake{
		{"misspelled field", "gatewayClassName: istio", "gatewayClass: istio", `unknown field "spec.gatewayClass"`},
		{"listener port 0", "port: 8080\n    protocol: HTTP", "port: 0\n    protocol: HTTP", "spec.listeners[0].port"},
		{"path with //, a CEL rule", "value: /ws\n", "value: //ws\n", "must not contain '//'"},
		{"unknown path match type", "type: PathPrefix", "type: Prefix", "Unsupported value"},
		{"bad duration", "request: 0s", "request: forever", "spec.rules[1].timeouts.request"},
		{"header name with a space", "name: Upgrade", "name: Up grade", "spec.rules[1].matches[0].headers[0].name"},
		{"wrong version", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute", "apiVersion: gateway.networking.k8s.io/v9\nkind: HTTPRoute", "no CRD serves"},
		{"Istio's semantic validation of the DestinationRule", "maxEjectionPercent: 66", "maxEjectionPercent: 166", "istio validation"},
	} {
		require.Contains(t, string(good), c.from, c.name)
		path := filepath.Join(dir, strconv.Itoa(len(files))+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(good), c.from, c.to, 1)), 0o644))
		files = append(files, path)
		want[path] = c
	}
	// One run for all: loading the CRDs takes the checker seconds.
	out, err := testutil.IstioCheck(t, files...)
	require.Error(t, err, out)
	for path, c := range want {
		found := false
		for _, line := range strings.Split(out, "\n") {
			found = found || strings.HasPrefix(line, path+": ") && strings.Contains(line, c.want)
		}
		require.True(t, found, "%s: no problem saying %q in\n%s", c.name, c.want, out)
	}
}

// Shapes the loader allows that no golden file has: each must still give
// objects the schemas accept.
func TestEdgeTopologiesPassValidation(t *testing.T) {
	edges := targettest.Edges()
	edges["names that differ in case and punctuation"] = func(t *topology.Topology) {
		t.Pools[1].Name = "Realtime"
		t.Routes[1].Pool = "Realtime"
		t.Listeners = append(t.Listeners, &topology.Listener{Name: "Public", Address: topology.Address{Host: "*", Port: 9090}})
		t.Routes[0].Listener = "Public"
	}
	edges["forty routes with origin checks: more rules and matches than one HTTPRoute holds"] = func(t *topology.Topology) {
		for i := range 40 {
			t.Routes = append([]*topology.Route{{Name: "r" + strconv.Itoa(i), PathPrefix: "/ws" + strconv.Itoa(i) + "/", WebSocketOnly: i%2 == 0, Pool: t.Pools[i%2].Name}}, t.Routes...)
		}
		for i := range 30 {
			t.Security.AllowedOrigins = append(t.Security.AllowedOrigins, "https://app"+strconv.Itoa(i)+".example.test")
		}
	}
	edges["twenty hosts"] = func(t *topology.Topology) {
		for i := range 20 {
			t.Routes = append(t.Routes, &topology.Route{Name: "h" + strconv.Itoa(i), Host: "h" + strconv.Itoa(i) + ".example.test", PathPrefix: "/", Pool: t.Pools[1].Name})
		}
	}
	target.EdgesPassValidation(t, edges, func(t *testing.T, name string, y []byte) {
		if strings.HasPrefix(name, "forty routes") {
			require.Greater(t, strings.Count(string(y), "kind: HTTPRoute\n"), 1, "the rules were not split over several HTTPRoutes")
		}
	})
}
