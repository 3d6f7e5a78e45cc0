package kube

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A Helm-rendered file: comments, empty documents, a List, a broken
// document between good ones; every object keeps its file lines.
const helmOutput = `# Source: chart/templates/empty.yaml
---
# Source: chart/templates/svc.yaml
apiVersion: v1
kind: Service
metadata:
  name: gw
  namespace: edge
spec:
  externalTrafficPolicy: Local
---
---
apiVersion: v1
kind: List
items:
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: a}
  spec:
    host: a
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: b}
---
apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    {{- include "x.labels" . | nindent 4 }}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
`

func TestParseHelmOutput(t *testing.T) {
	m := Parse("out.yaml", []byte(helmOutput))
	var got []string
	for _, o := range m.Objects {
		got = append(got, o.Kind+"/"+o.Name)
	}
	require.Equal(t, []string{"Service/gw", "DestinationRule/a", "DestinationRule/b", "HTTPRoute/r"}, got)
	svc := m.Objects[0]
	require.Equal(t, "edge", svc.Namespace)
	require.Equal(t, "", svc.Group())
	require.Equal(t, 4, svc.Line)
	require.Equal(t, 10, svc.EndLine)
	k, v := Path(svc.Node, "spec", "externalTrafficPolicy")
	require.Equal(t, "Local", Str(v))
	require.Equal(t, 10, k.Line)
	require.Equal(t, 3, k.Column)
	dr := m.Objects[1]
	require.Equal(t, "networking.istio.io", dr.Group())
	k, _ = Lookup(dr.Spec(), "host")
	require.Equal(t, 20, k.Line)
	require.Equal(t, 5, k.Column)
	require.Equal(t, 31, m.Objects[3].Line)

	require.Len(t, m.Problems, 1)
	require.Equal(t, 28, m.Problems[0].Line, m.Problems[0].Message)
	require.Contains(t, m.Problems[0].Message, "helm template")
}

func TestParseHostileInput(t *testing.T) {
	// A billion laughs: yaml.v3's alias budget refuses it.
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i < 12; i++ {
		prev := fmt.Sprintf("*x%d", i-1)
		fmt.Fprintf(&b, "x%d: &x%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(prev+", ", 10), ", "))
	}
	m := Parse("bomb.yaml", []byte(b.String()))
	require.NotEmpty(t, m.Problems)
	require.Empty(t, m.Objects)

	// Too many documents: a bounded number is read, one problem says so.
	m = Parse("many.yaml", []byte(strings.Repeat("---\nkind: X\n", MaxDocuments+50)))
	require.Len(t, m.Objects, MaxDocuments)
	require.Len(t, m.Problems, 1)

	// Scalars and sequences at the top are not objects.
	m = Parse("odd.yaml", []byte("just text\n---\n- a\n- b\n"))
	require.Empty(t, m.Objects)
	require.Len(t, m.Problems, 1)
	require.Equal(t, 3, m.Problems[0].Line)
}

// FuzzParse: no input makes the reader panic, every object and problem is
// on a line of the input, and reading is deterministic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(helmOutput))
	f.Add([]byte("a: &a [*a]\n---\n\tx\n--- |\n  y\n...\n"))
	f.Add([]byte("kind: List\nitems: [{kind: List, items: [{kind: X}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := Parse("f.yaml", data)
		lines := strings.Count(string(data), "\n") + 1
		for _, o := range m.Objects {
			if o.Line < 1 || o.EndLine > lines || o.EndLine < o.Line {
				t.Fatalf("object %s/%s at lines %d-%d of %d", o.Kind, o.Name, o.Line, o.EndLine, lines)
			}
		}
		for _, p := range m.Problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem at line %d of %d: %s", p.Line, lines, p.Message)
			}
		}
		if again := Parse("f.yaml", data); len(again.Objects) != len(m.Objects) || len(again.Problems) != len(m.Problems) {
			t.Fatal("Parse is not deterministic")
		}
	})
}
