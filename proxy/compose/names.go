package compose

import (
	"strconv"
	"strings"
)

// names hands out distinct names: a second wish for a taken name gets a
// numeric suffix.
type names map[string]bool

func (n names) get(want string) string {
	name := want
	for i := 2; n[name]; i++ {
		name = want + "-" + strconv.Itoa(i)
	}
	n[name] = true
	return name
}

// serviceName is s as a compose service name: lower-case letters, digits
// and '-' (what both compose v1 and v2 accept in service and container
// names), starting with a letter or digit.
func serviceName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "server"
	}
	return out
}

// envName is s as part of an environment variable's name: upper-case
// letters, digits and '_'.
func envName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// literal escapes s for compose's variable interpolation, which reads
// every '$' in the file: a value from the topology stays as written.
func literal(s string) string { return strings.ReplaceAll(s, "$", "$$") }
