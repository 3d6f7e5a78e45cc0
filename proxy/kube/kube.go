// Package kube reads Kubernetes manifests — multi-document YAML files,
// Helm-rendered output, `kind: List` wrappers — into objects whose every
// node keeps its line and column, so that linters can point at the field
// they judge. It knows no API group: Istio's and the Gateway API's
// readers (proxy/istio/manifest) build on it.
//
// Manifests come from unreviewed pull requests: a document that does not
// parse is a Problem at its line (the other documents are still read),
// YAML aliases are expanded only within yaml.v3's own budget, and the
// number of documents is bounded. Parse never panics.
package kube

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxDocuments bounds the documents of one file; the rest is a Problem.
const MaxDocuments = 10000

// Problem is a part of a file that could not be read.
type Problem struct {
	Line, Column int
	Message      string
}

// Object is one Kubernetes object of a manifest.
type Object struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Node is the object's mapping; Line and EndLine the lines it spans.
	Node          *yaml.Node
	Line, EndLine int
}

// Group is the API group of the object's apiVersion
// ("networking.istio.io" of "networking.istio.io/v1"; "" for core v1).
func (o *Object) Group() string {
	g, _, ok := strings.Cut(o.APIVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// Spec is the object's spec mapping, nil when it has none.
func (o *Object) Spec() *yaml.Node { return Mapping(Get(o.Node, "spec")) }

// Manifest is one file's objects, in file order.
type Manifest struct {
	File     string
	Objects  []*Object
	Problems []Problem
}

// docStartRe is a line that starts a YAML document.
var docStartRe = regexp.MustCompile(`^---(\s|$)`)

// Parse reads every document of data. Documents are split at their "---"
// lines first, so that one broken document (an unrendered template, a
// tab) is reported and the others are still read.
func Parse(file string, data []byte) (m *Manifest) {
	m = &Manifest{File: file}
	data = oneBreak(data)
	lines := bytes.SplitAfter(data, []byte("\n"))
	start := 0
	flush := func(end int) {
		if end > start {
			m.document(bytes.Join(lines[start:end], nil), start)
		}
		start = end
	}
	for i, l := range lines {
		if i > start && docStartRe.Match(l) {
			flush(i)
		}
	}
	flush(len(lines))
	return m
}

// oneBreak blanks the line breaks YAML knows besides "\n" (a lone "\r",
// NEL, LS, PS), byte for byte, so that YAML's line numbers are the
// file's "\n"-separated lines that findings and suppressions count.
func oneBreak(data []byte) []byte {
	if !bytes.ContainsAny(data, "\r\u0085\u2028\u2029") {
		return data
	}
	out := bytes.Clone(data)
	for i := 0; i < len(out); i++ {
		switch {
		case out[i] == '\r' && (i+1 == len(out) || out[i+1] != '\n'):
			out[i] = ' '
		case bytes.HasPrefix(out[i:], []byte("\u0085")):
			copy(out[i:], "  ")
		case bytes.HasPrefix(out[i:], []byte("\u2028")), bytes.HasPrefix(out[i:], []byte("\u2029")):
			copy(out[i:], "   ")
		}
	}
	return out
}

// lineRe finds the line number in a yaml.v3 error message.
var lineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// document reads one document whose first line is line offset+1 of the
// file.
func (m *Manifest) document(text []byte, offset int) {
	if len(m.Objects)+len(m.Problems) >= MaxDocuments {
		if len(m.Problems) == 0 || m.Problems[len(m.Problems)-1].Message != tooMany {
			m.Problems = append(m.Problems, Problem{Line: offset + 1, Message: tooMany})
		}
		return
	}
	var doc yaml.Node
	if err := safeUnmarshal(text, &doc); err != nil {
		p := Problem{Line: offset + 1, Message: "YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if sm := lineRe.FindStringSubmatch(err.Error()); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			p.Line, p.Message = offset+n, "YAML: "+strings.TrimPrefix(err.Error(), sm[0])
		}
		if strings.Contains(string(text), "{{") {
			p.Message += " (unrendered template text? lint the output of helm template)"
		}
		m.Problems = append(m.Problems, p)
		return
	}
	shift(&doc, offset)
	if len(doc.Content) == 0 {
		return // an empty document: Helm writes them for disabled templates
	}
	root := doc.Content[0]
	if hasAlias(root) {
		// yaml.v3's decoder refuses excessive aliasing (a billion laughs);
		// the linters' walks over the expanded tree are then bounded too.
		var v any
		if err := root.Decode(&v); err != nil {
			at := firstAnchor(root)
			m.Problems = append(m.Problems, Problem{Line: at.Line, Column: at.Column, Message: "YAML: " + strings.TrimPrefix(err.Error(), "yaml: ") + " (anchors and aliases that expand too far)"})
			return
		}
	}
	m.add(root, 0)
}

const tooMany = "too many YAML documents: the rest of the file is not read"

// add records an object, or the items of a List.
func (m *Manifest) add(n *yaml.Node, depth int) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil && n.Kind != yaml.ScalarNode {
			m.Problems = append(m.Problems, Problem{Line: n.Line, Column: n.Column, Message: "a Kubernetes object must be a mapping with apiVersion and kind"})
		}
		return
	}
	o := &Object{
		APIVersion: Str(Get(n, "apiVersion")),
		Kind:       Str(Get(n, "kind")),
		Name:       Str(Get(Get(n, "metadata"), "name")),
		Namespace:  Str(Get(Get(n, "metadata"), "namespace")),
		Node:       n,
		Line:       n.Line,
		EndLine:    endLine(n),
	}
	if items := Seq(Get(n, "items")); strings.HasSuffix(o.Kind, "List") && items != nil && depth == 0 {
		for _, it := range items.Content {
			m.add(it, depth+1)
		}
		return
	}
	m.Objects = append(m.Objects, o)
}

// safeUnmarshal is yaml.Unmarshal that turns a panic of the parser into
// an error: the input is hostile.
func safeUnmarshal(text []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cannot parse this document (%v)", r)
		}
	}()
	return yaml.Unmarshal(text, n)
}

// shift moves every node's line by offset (the document's first line in
// the file), visiting each node once.
func shift(n *yaml.Node, offset int) {
	walk(n, func(n *yaml.Node) { n.Line += offset })
}

// walk visits n and its descendants without following aliases.
func walk(n *yaml.Node, f func(*yaml.Node)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range n.Content {
		walk(c, f)
	}
}

func hasAlias(n *yaml.Node) bool {
	found := false
	walk(n, func(n *yaml.Node) { found = found || n.Kind == yaml.AliasNode })
	return found
}

// firstAnchor is the first node of n that defines an anchor, n when none
// does.
func firstAnchor(n *yaml.Node) *yaml.Node {
	var first *yaml.Node
	walk(n, func(c *yaml.Node) {
		if first == nil && c.Anchor != "" {
			first = c
		}
	})
	if first == nil {
		return n
	}
	return first
}

func endLine(n *yaml.Node) int {
	end := n.Line
	walk(n, func(n *yaml.Node) { end = max(end, n.Line) })
	return end
}

// resolve follows an alias to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// Mapping is n (an alias resolved) when it is a mapping, else nil.
func Mapping(n *yaml.Node) *yaml.Node {
	if n = resolve(n); n != nil && n.Kind == yaml.MappingNode {
		return n
	}
	return nil
}

// Seq is n (an alias resolved) when it is a sequence, else nil.
func Seq(n *yaml.Node) *yaml.Node {
	if n = resolve(n); n != nil && n.Kind == yaml.SequenceNode {
		return n
	}
	return nil
}

// Items are the entries of the sequence n, aliases resolved; none when n
// is not a sequence.
func Items(n *yaml.Node) []*yaml.Node {
	s := Seq(n)
	if s == nil {
		return nil
	}
	out := make([]*yaml.Node, 0, len(s.Content))
	for _, c := range s.Content {
		if c = resolve(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// Field is a key of a mapping and its value, aliases resolved.
type Field struct {
	Key, Value *yaml.Node
}

// Fields are the entries of the mapping n in order; none when n is not a
// mapping.
func Fields(n *yaml.Node) []Field {
	m := Mapping(n)
	if m == nil {
		return nil
	}
	out := make([]Field, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		if v := resolve(m.Content[i+1]); v != nil {
			out = append(out, Field{m.Content[i], v})
		}
	}
	return out
}

// Lookup finds key in the mapping n: its key node and its value (an alias
// resolved); nils when n is not a mapping or has no such key. A key given
// twice counts as its last value, as Kubernetes reads it.
func Lookup(n *yaml.Node, key string) (k, v *yaml.Node) {
	m := Mapping(n)
	if m == nil {
		return nil, nil
	}
	for i := len(m.Content) - 2; i >= 0; i -= 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			return m.Content[i], resolve(m.Content[i+1])
		}
	}
	return nil, nil
}

// Get is Lookup's value.
func Get(n *yaml.Node, key string) *yaml.Node {
	_, v := Lookup(n, key)
	return v
}

// Path follows keys from n: the last key's node and its value.
func Path(n *yaml.Node, keys ...string) (k, v *yaml.Node) {
	v = n
	for _, key := range keys {
		if k, v = Lookup(v, key); v == nil {
			return nil, nil
		}
	}
	return k, v
}

// Str is a scalar's value; "" for a missing node or a collection.
func Str(n *yaml.Node) string {
	if n = resolve(n); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}
