package generator

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// The loader has already checked every user string against an allowlist
// grammar; the helpers below are a second line of defence. They quote where
// a proxy's syntax needs it and refuse, rather than escape, anything that
// could end a word, a directive or a block.

// unsafeError reports a value that cannot be written into a config safely.
type unsafeError struct {
	what, value string
}

func (e *unsafeError) Error() string {
	return fmt.Sprintf("%s %q cannot be written into a proxy config safely", e.what, e.value)
}

// plainWord reports whether s needs no quoting in either proxy's syntax.
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._/:@,=+~[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// forbidden lists bytes no value may carry into a config, quoted or not:
// they end words, directives or blocks, start comments, expand variables
// or escape quotes.
func forbidden(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c >= 0x7f || strings.IndexByte("\"'`\\;{}#$%", c) >= 0 {
			return true
		}
	}
	return false
}

// haQuote renders s as one HAProxy word. HAProxy expands environment
// variables inside double quotes, so values are single-quoted when they
// need quoting at all.
func haQuote(what, s string) (string, error) {
	if s == "" || forbidden(s) {
		return "", &unsafeError{what, s}
	}
	if plainWord(s) {
		return s, nil
	}
	return "'" + s + "'", nil
}

// ngQuote renders s as one NGINX word.
func ngQuote(what, s string) (string, error) {
	if s == "" || forbidden(s) {
		return "", &unsafeError{what, s}
	}
	if plainWord(s) {
		return s, nil
	}
	return `"` + s + `"`, nil
}

// ngString renders a string the generator composed itself — variables,
// regular expressions over regexpQuote'd names, a cookie with its
// attributes — as one NGINX word. Such strings hold '$', '\' and spaces,
// which ngQuote refuses in user values; they never hold '"'.
func ngString(s string) string {
	return `"` + s + `"`
}

// dur renders a duration in the largest unit that divides it exactly; both
// proxies read ms, s, m and h.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	default:
		ms := (d + time.Millisecond - 1) / time.Millisecond
		return strconv.FormatInt(int64(ms), 10) + "ms"
	}
}

// wholeSeconds rounds a duration up to whole seconds, at least 1s, for
// NGINX parameters that do not take milliseconds (sticky expires;
// fail_timeout is nginx.FailTimeout, which verify reads back too).
func wholeSeconds(d time.Duration) time.Duration {
	return time.Duration(max(seconds(d), 1)) * time.Second
}

// seconds renders d as whole seconds, rounded up (cookie Max-Age).
func seconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

// isWildcardHost reports whether a listener host means "all interfaces".
func isWildcardHost(h string) bool {
	return h == "" || h == "*" || h == "0.0.0.0"
}

// checkFilePath checks a path the generator itself puts into a config.
func checkFilePath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q is not an absolute path", p)
	}
	if forbidden(p) {
		return &unsafeError{"path", p}
	}
	return nil
}

// checkNetwork checks a trusted proxy network (CIDR or single address)
// before it is written as a word of an ACL or geo block.
func checkNetwork(n string) error {
	if _, err := netip.ParsePrefix(n); err == nil {
		return nil
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return nil
	}
	return &unsafeError{"trusted proxy network", n}
}

// idents hands out identifiers that are unique within one config and valid
// as NGINX variable and upstream names ([A-Za-z0-9_]). User names may
// contain '.' and '-', and two different names may map to the same
// identifier; a numeric suffix keeps them apart.
type idents struct {
	used  map[string]string // identifier → the key it was made for
	byKey map[string]string
}

func newIdents() *idents {
	return &idents{used: map[string]string{}, byKey: map[string]string{}}
}

// reserve marks fixed identifiers as taken.
func (n *idents) reserve(ids ...string) {
	for _, id := range ids {
		n.used[id] = "\x00reserved"
	}
}

// get returns the identifier for key, made from the parts.
func (n *idents) get(parts ...string) string {
	key := strings.Join(parts, "\x00")
	if id, ok := n.byKey[key]; ok {
		return id
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('_')
		}
		for j := 0; j < len(p); j++ {
			c := p[j]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
				b.WriteByte(c)
			} else {
				b.WriteByte('_')
			}
		}
	}
	base := b.String()
	id := base
	for i := 2; ; i++ {
		if _, taken := n.used[strings.ToLower(id)]; !taken {
			break
		}
		id = base + "_" + strconv.Itoa(i)
	}
	n.used[strings.ToLower(id)] = key
	n.byKey[key] = id
	return id
}
