package istio

import (
	"strconv"
	"strings"
)

// maxLabel is the length of a DNS label, the strictest Kubernetes name.
const maxLabel = 63

// Label turns a topology name (a letter, then letters, digits, "_", "."
// or "-") into a DNS-1123 label: lower case, "_" and "." become "-", and
// it ends in a letter or digit. Distinct names may give one label: Names
// dedupes them.
func Label(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	s := b.String()
	if len(s) > maxLabel {
		s = s[:maxLabel]
	}
	s = strings.TrimRight(s, "-")
	if s == "" {
		return "x"
	}
	return s
}

// Names hands out distinct labels: the second "web" is "web-2".
type Names struct{ used map[string]bool }

// NewNames hands out labels none of which is taken yet.
func NewNames() *Names { return &Names{used: map[string]bool{}} }

// Get is want as a label, with a suffix when it is taken already.
func (n *Names) Get(want string) string {
	want = Label(want)
	got := want
	for i := 2; n.used[got]; i++ {
		suffix := "-" + strconv.Itoa(i)
		got = Label(want[:min(len(want), maxLabel-len(suffix))]) + suffix
	}
	n.used[got] = true
	return got
}
