package istio

import (
	"strconv"
	"strings"
)

// maxLabel is the length of a DNS label, the strictest Kubernetes name.
const maxLabel = 63

// label turns a topology name (a letter, then letters, digits, "_", "."
// or "-") into a DNS-1123 label: lower case, "_" and "." become "-", and
// it ends in a letter or digit. Distinct names may give one label: names
// dedupes them.
func label(name string) string {
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

// names hands out distinct labels: the second "web" is "web-2".
type names struct{ used map[string]bool }

func newNames() *names { return &names{used: map[string]bool{}} }

func (n *names) get(want string) string {
	want = label(want)
	got := want
	for i := 2; n.used[got]; i++ {
		suffix := "-" + strconv.Itoa(i)
		got = label(want[:min(len(want), maxLabel-len(suffix))]) + suffix
	}
	n.used[got] = true
	return got
}
