package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/proxy"
	_ "github.com/wslb/wslb/proxy/all"
	"github.com/wslb/wslb/proxy/istio/manifest"
	"github.com/wslb/wslb/proxy/kube"
)

const gatewayAPI = `# Source: chat/templates/route.yaml
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: chat
spec:
  rules:
  - matches:
    - path: {type: PathPrefix, value: /}
    backendRefs:
    - {name: web, port: 80}
`

// The content tells Istio and Gateway API YAML apart whatever the file is
// called; .yaml and .yml only decide when the content does not.
func TestDetect(t *testing.T) {
	for _, name := range []string{"route.yaml", "route.conf", "route.cfg", "route"} {
		d, why, ok := proxy.Detect(name, []byte(gatewayAPI))
		require.True(t, ok, name)
		require.Equal(t, manifest.Kind, d.Name, name)
		require.Equal(t, "content", why, name)
	}
	quoted := "apiVersion: \"networking.istio.io/v1beta1\"\nkind: DestinationRule\n"
	require.Equal(t, manifest.Kind, proxy.DetectKind("x", []byte(quoted)))
	// Other Kubernetes YAML is Istio's by name only.
	deploy := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n")
	require.Equal(t, manifest.Kind, proxy.DetectKind("deploy.yml", deploy))
	d, why, ok := proxy.Detect("deploy.yaml", deploy)
	require.True(t, ok)
	require.Equal(t, manifest.Kind, d.Name)
	require.Equal(t, "file name", why)
	require.Equal(t, proxy.Kind(""), proxy.DetectKind("deploy", deploy))
	// An NGINX config is still NGINX's, also named .yaml.
	require.Equal(t, proxy.Kind("nginx"), proxy.DetectKind("site.yaml", []byte("events {}\nhttp { server { listen 80; } }\n")))
}

func TestHostMatching(t *testing.T) {
	for _, c := range []struct {
		a, aNS, b, bNS string
		same           bool
	}{
		{"reviews", "prod", "reviews.prod.svc.cluster.local", "", true},
		{"reviews", "prod", "reviews", "prod", true},
		{"reviews", "prod", "reviews", "dev", false},
		{"reviews", "", "reviews", "dev", true},
		{"*.example.com", "", "chat.example.com", "", true},
		{"chat.example.com", "", "chat.example.org", "", false},
		{"REVIEWS.prod.svc.cluster.local.", "", "reviews", "prod", true},
		{"realtime", "", "web", "", false},
	} {
		require.Equal(t, c.same, manifest.SameHost(c.a, c.aNS, c.b, c.bNS), "%+v", c)
	}
}

// Which routes carry WebSockets, and which take long-polling too.
func TestWebSocketRoutes(t *testing.T) {
	src := `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: app}
spec:
  http:
  - name: upgrade-only
    match:
    - uri: {prefix: /socket.io/}
      headers: {upgrade: {exact: websocket}}
    route: [{destination: {host: io}}]
  - name: io
    match:
    - uri: {prefix: /socket.io/}
    route: [{destination: {host: io}}]
  - name: events
    route: [{destination: {host: events-ws}}]
  - name: api
    match:
    - uri: {prefix: /api}
    route: [{destination: {host: api}}]
  - name: transport
    match:
    - uri: {prefix: /echo/123/abc/xhr_streaming}
    route: [{destination: {host: echo}}]
`
	m := manifest.Read(kube.Parse("app.yaml", []byte(src)), false)
	got := map[string]string{}
	for _, r := range m.Routes {
		switch {
		case r.WS == nil && r.Polling != "":
			got[r.Name] = "plain, polling"
		case r.WS == nil:
			got[r.Name] = "plain"
		case r.WS.Polling != "":
			got[r.Name] = "websocket, polling"
		default:
			got[r.Name] = "websocket"
		}
	}
	require.Equal(t, map[string]string{
		"upgrade-only": "websocket",
		"io":           "plain, polling", // upgrade-only carries the WebSockets of /socket.io/
		"events":       "websocket",
		"api":          "plain",
		"transport":    "plain, polling",
	}, got)
	require.Equal(t, "it matches the Upgrade: websocket handshake on line 9", m.Routes[0].WS.String())
}
