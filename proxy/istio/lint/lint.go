// Package lint is wslb validate's rule set for Istio and Kubernetes
// Gateway API YAML (rules WSLB300–WSLB307): it registers a loader that
// reads a file once (proxy/kube for the YAML with positions,
// proxy/istio/manifest for the routes and destination rules) and the
// rules that judge it. validate imports it; nothing names a rule here
// from outside.
package lint

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/wslb/wslb/proxy/istio/manifest"
	"github.com/wslb/wslb/proxy/kube"
	"github.com/wslb/wslb/validate/finding"
	"github.com/wslb/wslb/validate/rules"
)

func init() { rules.RegisterLoader(string(manifest.Kind), load) }

// load reads a file for the rules: its objects, the problems of
// documents that do not parse, and each object's lines as a block for
// wslb:ignore comments.
func load(file string, text []byte, opts rules.Options) rules.Loaded {
	km := kube.Parse(file, text)
	out := rules.Loaded{Model: manifest.Read(km, opts.WebSocketAll)}
	for _, p := range km.Problems {
		out.Problems = append(out.Problems, rules.Problem{Line: p.Line, Column: p.Column, Message: p.Message})
	}
	for _, o := range km.Objects {
		out.Blocks = append(out.Blocks, rules.Block{Start: o.Line, End: o.EndLine})
	}
	return out
}

// register adds one Istio rule; check sees the file's manifest.
func register(r finding.Rule, check func(*pass)) {
	rules.Register(&rules.Rule{
		Rule:  r,
		Proxy: string(manifest.Kind),
		File: func(p *rules.FilePass) {
			if m, ok := p.Model.(*manifest.Manifest); ok {
				check(&pass{FilePass: p, m: m})
			}
		},
	})
}

// pass is what a rule sees: the file's manifest, and Report at a node.
type pass struct {
	*rules.FilePass
	m *manifest.Manifest
}

// at records a finding at node n's line and column.
func (p *pass) at(n *yaml.Node, msg, fix string) { p.Report(n.Line, n.Column, msg, fix) }

// duration reads an Istio or Gateway API duration ("30s", "1h", "500ms").
func duration(n *yaml.Node) (time.Duration, bool) {
	d, err := time.ParseDuration(kube.Str(n))
	return d, err == nil
}

// short prints a duration without zero units: "2m", "1m30s", "1h".
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// carries is the "carries WebSockets (because ...)" clause of messages.
func carries(r *manifest.Route) string {
	return fmt.Sprintf("%s carries WebSockets (because %s)", r.Describe(), r.WS)
}
