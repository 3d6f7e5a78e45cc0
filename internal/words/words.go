// Package words writes lists for messages and help.
package words

import "strings"

// Or lists names as "a, b or c"; "" for none.
func Or(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
