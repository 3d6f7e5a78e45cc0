package lint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wslb/wslb/internal/cli"
	"github.com/wslb/wslb/validate"
)

// A Helm-rendered release written by hand, the way a chat team would: a
// Service and a Deployment the rules do not judge, every Istio mistake
// once, a broken document in the middle. Each finding must be at the
// offending field, line and column.
const release = `---
# Source: chat/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: chat
spec:
  selector: {app: chat}
  ports: [{port: 80, targetPort: 3000}]
---
# Source: chat/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: chat
spec:
  replicas: 3
---
# Source: chat/templates/broken.yaml
apiVersion: v1
kind: ConfigMap
data:
	tab: indented
---
# Source: chat/templates/virtualservice.yaml
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: chat
spec:
  hosts: [chat.example.com]
  gateways: [istio-system/public]
  http:
  - name: socketio
    match:
    - uri:
        prefix: /socket.io/
    route:
    - destination:
        host: chat
        subset: blue
    timeout: 15s
  - name: web
    route:
    - destination:
        host: chat
        subset: green
---
# Source: chat/templates/destinationrule.yaml
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: chat
spec:
  host: chat
  trafficPolicy:
    connectionPool:
      http:
        idleTimeout: 30s
    loadBalancer:
      consistentHash:
        httpCookie:
          name: io
    outlierDetection:
      consecutive5xxErrors: 1
      maxEjectionPercent: 100
  subsets:
  - name: green
    labels: {color: green}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: chat-legacy
spec:
  host: chat-old
  trafficPolicy:
    loadBalancer:
      consistentHash:
        useSourceIp: true
`

func TestFindingsAtTheirFields(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "release.yaml")
	require.NoError(t, os.WriteFile(path, []byte(release), 0o644))
	res, err := validate.Lint(context.Background(), []validate.Source{{Name: path}}, validate.Options{})
	require.NoError(t, err)
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%d:%d %s", f.Line, f.Column, f.Rule))
	}
	require.Equal(t, []string{
		"23:0 WSLB001", // the tab
		"41:9 WSLB307", // subset: blue
		"42:5 WSLB300", // timeout: 15s
		"59:9 WSLB304", // idleTimeout: 30s
		"62:9 WSLB301", // httpCookie without ttl
		"66:7 WSLB305", // maxEjectionPercent: 100
		"76:3 WSLB306", // host: chat-old
		"80:9 WSLB302", // useSourceIp
	}, got)

	// The same positions in SARIF, the format code scanning reads.
	var out, errOut bytes.Buffer
	code := cli.Run(context.Background(), []string{"validate", path, "--format", "sarif", "--disable", "WSLB001"}, cli.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	require.Equal(t, cli.ExitFailed, code, errOut.String())
	var sarif struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
						Region           struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &sarif))
	var regions []string
	for _, r := range sarif.Runs[0].Results {
		loc := r.Locations[0].PhysicalLocation
		require.Contains(t, loc.ArtifactLocation.URI, "release.yaml")
		regions = append(regions, fmt.Sprintf("%d:%d %s", loc.Region.StartLine, loc.Region.StartColumn, r.RuleID))
	}
	require.Equal(t, got[1:], regions)
}

// Suppressions: on the line, on the line above, on an object's first line.
func TestIgnoreComments(t *testing.T) {
	src := `apiVersion: networking.istio.io/v1
kind: DestinationRule # wslb:ignore WSLB305
metadata: {name: a}
spec:
  host: a
  trafficPolicy:
    outlierDetection: {maxEjectionPercent: 100}
    loadBalancer:
      consistentHash:
        # wslb:ignore WSLB301
        httpCookie: {name: x}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: b}
spec:
  host: b
  trafficPolicy:
    loadBalancer:
      consistentHash:
        httpCookie: {name: x} # wslb:ignore WSLB301
`
	res, err := validate.Lint(context.Background(), []validate.Source{{Name: "x.yaml", Kind: "istio", Bytes: []byte(src)}}, validate.Options{})
	require.NoError(t, err)
	require.Len(t, res.Findings, 1, "%+v", res.Findings)
	require.Equal(t, "WSLB305", res.Findings[0].Rule, "a comment on a line that is not the object's first covers that line only")
}

// helm template | wslb validate - --proxy istio: standard input is linted
// as Istio YAML, and without --proxy the message offers istio.
func TestStandardInput(t *testing.T) {
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := cli.Run(context.Background(), args, cli.IOStreams{In: bytes.NewBufferString(release), Out: &out, ErrOut: &errOut})
		return code, out.String(), errOut.String()
	}
	code, stdout, stderr := run("validate", "-", "--proxy", "istio")
	require.Equal(t, cli.ExitFailed, code, stderr)
	require.Contains(t, stdout, "<stdin>:41:9: error WSLB307")
	code, _, stderr = run("validate", "-")
	require.Equal(t, cli.ExitUsage, code)
	require.Contains(t, stderr, "--proxy istio")
}
