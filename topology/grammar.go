package topology

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Allowlist grammars for every user string that can reach a generated
// config. They are deliberately narrower than the RFCs they derive from:
// a value passes only if both HAProxy and NGINX can use it verbatim, and no
// character that has meaning in either config language (whitespace, quotes,
// ';', '{', '}', '#', '$', '\\', '%', control characters, anything outside
// printable ASCII) can appear where it has none. Templates therefore only
// need to quote, never to escape.

// A GrammarError explains why a value was rejected.
type GrammarError struct {
	// What names the kind of value ("path", "cookie name", …).
	What string
	// Value is the rejected value.
	Value string
	// Reason says what is wrong, e.g. "character ';' at offset 3 is not allowed".
	Reason string
	// Allowed describes the grammar in words.
	Allowed string
}

func (e *GrammarError) Error() string {
	return fmt.Sprintf("invalid %s %q: %s", e.What, e.Value, e.Reason)
}

// Grammar descriptions, shown in diagnostics and docs.
const (
	allowedName      = `A name starts with a letter, followed by up to 63 letters, digits, '_', '.' or '-'.`
	allowedHost      = `A host name is a sequence of dot-separated labels (RFC 1123): each label 1 to 63 letters, digits or '-', not starting or ending with '-'; 253 characters at most.`
	allowedPort      = `A port is a decimal number from 1 to 65535 without sign or leading zeros.`
	allowedPath      = `A path starts with '/' and continues with letters, digits and the characters - . _ ~ ! & ( ) * + , = : @ / (RFC 3986 path characters without ';', '$', quotes and percent-encoding); no empty, '.' or '..' segments; 1024 characters at most.`
	allowedFault     = `A fault is KIND:SERVER[:VALUE], up to 100 letters, digits, '_', '.', ':', '%' or '-' starting with a letter, e.g. "pause:ws2" or "loss:ws1:5%".`
	allowedHeader    = `A header name is 1 to 64 letters, digits or '-', starting with a letter or digit (a subset of the RFC 7230 token that both proxies pass through: NGINX ignores headers with '_' by default).`
	allowedCookie    = `A cookie name is 1 to 64 letters, digits or '_', starting with a letter or '_' (a subset of the RFC 6265 token that NGINX can read as $cookie_NAME).`
	allowedParam     = `A query parameter name is 1 to 64 letters, digits or '_' (NGINX reads it as $arg_NAME).`
	allowedOrigin    = `An Origin is scheme://host[:port] with scheme http or https, a lower-case host name, IPv4 address or [IPv6] address, and no path, query or trailing '/'.`
	allowedFilePath  = `A file path is absolute and uses only letters, digits and the characters / . _ - + @ , = ~ (no whitespace, quotes, ';', '{', '}', '#', '$' or '\\'); no '..' segments; 4096 characters at most.`
	allowedCIDR      = `A network is an IPv4 or IPv6 address with an optional prefix length, e.g. 10.0.0.0/8 or fd00::/8, with no host bits set and no zone.`
	allowedVersion   = `A version is MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. "2.6" or "1.22.1".`
	allowedAddress   = `An address is host:port where host is an IPv4 address, a bracketed IPv6 address ([::1]:8080) or a host name.`
	allowedService   = `A Kubernetes Service is NAME.NAMESPACE:PORT: the Service's name and its namespace, each 1 to 63 lower-case letters, digits or '-' starting with a letter and ending with a letter or digit (a DNS-1035 label), and the Service's port, 1 to 65535.`
	allowedListenAdr = `A listen address is host:port where host is an IPv4 address, a bracketed IPv6 address ([::]:8080), a host name, or '*' (or empty) for all IPv4 interfaces.`
)

// nested words the reason a part of a value was rejected, e.g.
// `port "0" is out of range 1-65535`.
func nested(part, value string, err error) string {
	reason := err.(*GrammarError).Reason
	if r, ok := strings.CutPrefix(reason, "it "); ok {
		return fmt.Sprintf("%s %q %s", part, value, r)
	}
	return fmt.Sprintf("%s %q: %s", part, value, reason)
}

func badChar(s string, i int) string {
	r := []rune(s[i:])[0]
	return fmt.Sprintf("character %s at offset %d is not allowed", strconv.QuoteRune(r), i)
}

// firstBad returns the byte offset of the first byte of s that ok rejects, or -1.
func firstBad(s string, ok func(c byte) bool) int {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return i
		}
	}
	return -1
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// checkToken applies the common "first character, other characters, length"
// shape shared by names, header, cookie and parameter names.
func checkToken(what, allowed, s string, maxLen int, first, rest func(byte) bool) error {
	fail := func(reason string) error {
		return &GrammarError{What: what, Value: s, Reason: reason, Allowed: allowed}
	}
	switch {
	case s == "":
		return fail("it is empty")
	case len(s) > maxLen:
		return fail(fmt.Sprintf("it is %d characters long, at most %d are allowed", len(s), maxLen))
	case !first(s[0]):
		return fail(badChar(s, 0) + " as the first character")
	}
	if i := firstBad(s, rest); i >= 0 {
		return fail(badChar(s, i))
	}
	return nil
}

// CheckName validates listener, route, pool, server and topology names.
func CheckName(s string) error {
	return checkToken("name", allowedName, s, 64, isAlpha, func(c byte) bool {
		return isAlnum(c) || c == '_' || c == '.' || c == '-'
	})
}

// CheckFaultSpec validates the characters of a fault spec
// (KIND:SERVER[:VALUE], e.g. "loss:ws2:5%"); verify parses it.
func CheckFaultSpec(s string) error {
	return checkToken("fault", allowedFault, s, 100, isAlpha, func(c byte) bool {
		return isAlnum(c) || c == '_' || c == '.' || c == '-' || c == ':' || c == '%'
	})
}

// CheckHeaderName validates an HTTP request header name.
func CheckHeaderName(s string) error {
	return checkToken("header name", allowedHeader, s, 64, isAlnum, func(c byte) bool {
		return isAlnum(c) || c == '-'
	})
}

// CheckCookieName validates a cookie name.
func CheckCookieName(s string) error {
	return checkToken("cookie name", allowedCookie, s, 64, func(c byte) bool {
		return isAlpha(c) || c == '_'
	}, func(c byte) bool {
		return isAlnum(c) || c == '_'
	})
}

// CheckQueryParam validates a query parameter name.
func CheckQueryParam(s string) error {
	tok := func(c byte) bool { return isAlnum(c) || c == '_' }
	return checkToken("query parameter name", allowedParam, s, 64, tok, tok)
}

// CheckHostName validates a DNS host name (RFC 1123), without trailing dot.
func CheckHostName(s string) error {
	fail := func(reason string) error {
		return &GrammarError{What: "host name", Value: s, Reason: reason, Allowed: allowedHost}
	}
	if s == "" {
		return fail("it is empty")
	}
	if len(s) > 253 {
		return fail(fmt.Sprintf("it is %d characters long, at most 253 are allowed", len(s)))
	}
	if i := firstBad(s, func(c byte) bool { return isAlnum(c) || c == '-' || c == '.' }); i >= 0 {
		return fail(badChar(s, i))
	}
	for _, label := range strings.Split(s, ".") {
		switch {
		case label == "":
			return fail("it has an empty label")
		case len(label) > 63:
			return fail(fmt.Sprintf("label %q is longer than 63 characters", label))
		case label[0] == '-' || label[len(label)-1] == '-':
			return fail(fmt.Sprintf("label %q starts or ends with '-'", label))
		}
	}
	return nil
}

// parseIP parses an IPv4 or IPv6 address without zone.
func parseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

func isIP(s string) bool {
	_, ok := parseIP(s)
	return ok
}

// CheckIPv4 validates a dotted-quad IPv4 address.
func CheckIPv4(s string) error {
	if a, ok := parseIP(s); ok && a.Is4() {
		return nil
	}
	return &GrammarError{What: "IPv4 address", Value: s, Reason: "it is not a dotted-quad IPv4 address", Allowed: "An IPv4 address is four decimal numbers 0-255 separated by dots."}
}

// CheckIPv6 validates an IPv6 address without brackets and without zone.
func CheckIPv6(s string) error {
	if a, ok := parseIP(s); ok && a.Is6() {
		return nil
	}
	return &GrammarError{What: "IPv6 address", Value: s, Reason: "it is not an IPv6 address without zone", Allowed: "An IPv6 address in RFC 4291 text form, without brackets and without %zone."}
}

// CheckHost validates the host part of an address: IPv4, IPv6 or host name.
func CheckHost(s string) error {
	if _, ok := parseIP(s); ok {
		return nil
	}
	if strings.Contains(s, ":") {
		return CheckIPv6(s)
	}
	if err := CheckHostName(s); err != nil {
		return err
	}
	return checkNumericHost(s)
}

// checkNumericHost rejects host names that resolvers, browsers and both
// proxies read as IPv4 addresses although they are not dotted quads:
// "127.1", "0x7f.1", "0x0a000001", "0177.0.0.1" (inet_aton's shorthand,
// hex and octal forms). A host whose last label is a number is an address
// (as in the WHATWG URL standard), and only the canonical form is taken.
func checkNumericHost(s string) error {
	labels := strings.Split(s, ".")
	if !isNumericLabel(labels[len(labels)-1]) {
		return nil
	}
	if a, ok := parseIP(s); ok && a.Is4() {
		return nil
	}
	reason := "it ends in a number, so it is an IPv4 address, but not a dotted quad of decimal numbers 0-255"
	if v, ok := inetAton(labels); ok {
		reason = fmt.Sprintf("it is a numeric spelling of the IPv4 address %s (resolvers read hex, octal and shortened forms); write %s", v, v)
	}
	return &GrammarError{What: "IPv4 address", Value: s, Reason: reason, Allowed: "An IPv4 address is four decimal numbers 0-255 separated by dots, without leading zeros."}
}

// isNumericLabel reports whether a label is a decimal or 0x-hex number.
func isNumericLabel(l string) bool {
	if h, ok := strings.CutPrefix(strings.ToLower(l), "0x"); ok {
		return firstBad(h, func(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' }) < 0
	}
	return l != "" && firstBad(l, isDigit) < 0
}

// inetAton reads labels the way inet_aton(3) does: one to four numbers,
// each decimal, 0x-hex or 0-octal, the last filling the remaining bytes.
func inetAton(labels []string) (netip.Addr, bool) {
	if len(labels) > 4 {
		return netip.Addr{}, false
	}
	var n [4]uint64
	for i, l := range labels {
		base, digits := 10, l
		switch lower := strings.ToLower(l); {
		case strings.HasPrefix(lower, "0x"):
			base, digits = 16, lower[2:]
			if digits == "" {
				digits = "0"
			}
		case len(l) > 1 && l[0] == '0':
			base, digits = 8, l[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		n[i] = v
	}
	last := len(labels) - 1
	var out uint64
	for i := 0; i < last; i++ {
		if n[i] > 255 {
			return netip.Addr{}, false
		}
		out |= n[i] << (24 - 8*i)
	}
	if n[last] >= 1<<(8*(4-last)) {
		return netip.Addr{}, false
	}
	out |= n[last]
	return netip.AddrFrom4([4]byte{byte(out >> 24), byte(out >> 16), byte(out >> 8), byte(out)}), true
}

// ParsePort parses a decimal TCP port 1..65535.
func ParsePort(s string) (int, error) {
	fail := func(reason string) (int, error) {
		return 0, &GrammarError{What: "port", Value: s, Reason: reason, Allowed: allowedPort}
	}
	if s == "" {
		return fail("it is empty")
	}
	if i := firstBad(s, isDigit); i >= 0 {
		return fail(badChar(s, i))
	}
	if len(s) > 1 && s[0] == '0' {
		return fail("it has a leading zero")
	}
	if len(s) > 5 {
		return fail("it is out of range 1-65535")
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n > 65535 {
		return fail("it is out of range 1-65535")
	}
	return n, nil
}

// ParseAddress parses a server address host:port ([v6]:port for IPv6).
func ParseAddress(s string) (Address, error) {
	return parseAddress(s, false)
}

// ParseListenAddress parses a listener address; the host may also be '*' or
// empty, both meaning all IPv4 interfaces (stored as "*").
func ParseListenAddress(s string) (Address, error) {
	return parseAddress(s, true)
}

func parseAddress(s string, listen bool) (Address, error) {
	what, allowed := "address", allowedAddress
	if listen {
		what, allowed = "listen address", allowedListenAdr
	}
	fail := func(reason string) (Address, error) {
		return Address{}, &GrammarError{What: what, Value: s, Reason: reason, Allowed: allowed}
	}
	if i := firstBad(s, func(c byte) bool { return c > ' ' && c < 0x7f }); i >= 0 {
		return fail(badChar(s, i))
	}
	colon := strings.LastIndexByte(s, ':')
	if colon < 0 {
		return fail("it has no :port")
	}
	host, portText := s[:colon], s[colon+1:]
	port, err := ParsePort(portText)
	if err != nil {
		return fail(nested("port", portText, err))
	}
	switch {
	case strings.HasPrefix(host, "["):
		if !strings.HasSuffix(host, "]") {
			return fail("'[' without matching ']'")
		}
		host = host[1 : len(host)-1]
		if err := CheckIPv6(host); err != nil {
			return fail(nested("host", host, err))
		}
	case strings.Contains(host, ":"):
		return fail("an IPv6 host must be written in brackets, e.g. [::1]:8080")
	case listen && (host == "*" || host == ""):
		host = "*"
	default:
		if err := CheckHost(host); err != nil {
			return fail(nested("host", host, err))
		}
	}
	return Address{Host: host, Port: port}, nil
}

// ParseKubernetesService parses NAME.NAMESPACE:PORT.
func ParseKubernetesService(s string) (KubernetesService, error) {
	fail := func(reason string) (KubernetesService, error) {
		return KubernetesService{}, &GrammarError{What: "Kubernetes Service", Value: s, Reason: reason, Allowed: allowedService}
	}
	if i := firstBad(s, func(c byte) bool { return c >= 'a' && c <= 'z' || isDigit(c) || c == '-' || c == '.' || c == ':' }); i >= 0 {
		return fail(badChar(s, i))
	}
	host, portText, ok := strings.Cut(s, ":")
	if !ok {
		return fail("it has no :port")
	}
	port, err := ParsePort(portText)
	if err != nil {
		return fail(nested("port", portText, err))
	}
	name, namespace, ok := strings.Cut(host, ".")
	if !ok {
		return fail("it has no .NAMESPACE after the name")
	}
	for _, part := range []struct{ what, v string }{{"name", name}, {"namespace", namespace}} {
		switch {
		case part.v == "":
			return fail("the " + part.what + " is empty")
		case len(part.v) > 63:
			return fail(fmt.Sprintf("the %s %q is longer than 63 characters", part.what, part.v))
		case part.v[0] < 'a' || part.v[0] > 'z':
			return fail(fmt.Sprintf("the %s %q does not start with a letter", part.what, part.v))
		case part.v[len(part.v)-1] == '-':
			return fail(fmt.Sprintf("the %s %q ends with '-'", part.what, part.v))
		case strings.Contains(part.v, "."):
			return fail(fmt.Sprintf("the %s %q holds a '.': write NAME.NAMESPACE, not the Service's DNS name", part.what, part.v))
		}
	}
	return KubernetesService{Name: name, Namespace: namespace, Port: port}, nil
}

func isPathChar(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '-', '.', '_', '~', '!', '&', '(', ')', '*', '+', ',', '=', ':', '@', '/':
		return true
	}
	return false
}

// CheckPath validates a URL path prefix.
func CheckPath(s string) error {
	fail := func(reason string) error {
		return &GrammarError{What: "path", Value: s, Reason: reason, Allowed: allowedPath}
	}
	switch {
	case s == "":
		return fail("it is empty")
	case len(s) > 1024:
		return fail(fmt.Sprintf("it is %d characters long, at most 1024 are allowed", len(s)))
	case s[0] != '/':
		return fail("it does not start with '/'")
	}
	if i := firstBad(s, isPathChar); i >= 0 {
		return fail(badChar(s, i))
	}
	segs := strings.Split(s[1:], "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		switch {
		case seg == "" && !last:
			return fail("it has an empty segment ('//'); NGINX merges slashes so it would never match")
		case seg == "." || seg == "..":
			return fail("it has a '.' or '..' segment; NGINX normalizes those so it would never match")
		}
	}
	return nil
}

// CheckFilePath validates an absolute file path (certificates and keys).
func CheckFilePath(s string) error {
	fail := func(reason string) error {
		return &GrammarError{What: "file path", Value: s, Reason: reason, Allowed: allowedFilePath}
	}
	switch {
	case s == "":
		return fail("it is empty")
	case len(s) > 4096:
		return fail(fmt.Sprintf("it is %d characters long, at most 4096 are allowed", len(s)))
	case s[0] != '/':
		return fail("it is not absolute (does not start with '/')")
	}
	if i := firstBad(s, func(c byte) bool {
		return isAlnum(c) || strings.IndexByte("/._-+@,=~", c) >= 0
	}); i >= 0 {
		return fail(badChar(s, i))
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == ".." {
			return fail("it has a '..' segment")
		}
	}
	if strings.HasSuffix(s, "/") {
		return fail("it names a directory (ends with '/')")
	}
	return nil
}

// CheckOrigin validates an exact Origin header value.
func CheckOrigin(s string) error {
	fail := func(reason string) error {
		return &GrammarError{What: "Origin", Value: s, Reason: reason, Allowed: allowedOrigin}
	}
	if i := firstBad(s, func(c byte) bool { return c > ' ' && c < 0x7f }); i >= 0 {
		return fail(badChar(s, i))
	}
	var rest, scheme string
	switch {
	case strings.HasPrefix(s, "https://"):
		scheme, rest = "https", s[len("https://"):]
	case strings.HasPrefix(s, "http://"):
		scheme, rest = "http", s[len("http://"):]
	default:
		return fail("it does not start with http:// or https://")
	}
	if i := strings.IndexAny(rest, "/?#@"); i >= 0 {
		return fail(fmt.Sprintf("character %q at offset %d: an Origin has no path, query, fragment or user info", rest[i], len(s)-len(rest)+i))
	}
	host, port := rest, ""
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return fail("'[' without matching ']'")
		}
		host = rest[1:end]
		if err := CheckIPv6(host); err != nil {
			return fail(nested("host", host, err))
		}
		switch after := rest[end+1:]; {
		case after == "":
		case after[0] == ':':
			port = after[1:]
		default:
			return fail("unexpected text after ']'")
		}
	} else {
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			host, port = rest[:i], rest[i+1:]
		}
		if err := CheckHost(host); err != nil {
			return fail(nested("host", host, err))
		}
	}
	if host != strings.ToLower(host) {
		return fail("the host has upper-case letters; browsers send it in lower case, so it would never match")
	}
	if port != "" || strings.HasSuffix(rest, ":") {
		n, err := ParsePort(port)
		if err != nil {
			return fail(nested("port", port, err))
		}
		if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
			return fail("browsers omit the scheme's default port, so it would never match; remove it")
		}
	}
	return nil
}

// ParseCIDR validates an IP network (or a single address) and returns its
// canonical form.
func ParseCIDR(s string) (string, error) {
	fail := func(reason string) (string, error) {
		return "", &GrammarError{What: "network", Value: s, Reason: reason, Allowed: allowedCIDR}
	}
	if i := firstBad(s, func(c byte) bool { return isAlnum(c) || c == '.' || c == ':' || c == '/' }); i >= 0 {
		return fail(badChar(s, i))
	}
	if !strings.Contains(s, "/") {
		a, ok := parseIP(s)
		if !ok {
			return fail("it is not an IP address or network")
		}
		return a.String(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" {
		return fail("it is not an IP network")
	}
	if p.Masked() != p {
		return fail(fmt.Sprintf("it has host bits set (did you mean %s?)", p.Masked()))
	}
	return p.String(), nil
}

// ParseVersion parses MAJOR.MINOR[.PATCH].
func ParseVersion(s string) (Version, error) {
	fail := func(reason string) (Version, error) {
		return Version{}, &GrammarError{What: "version", Value: s, Reason: reason, Allowed: allowedVersion}
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return fail("it is not MAJOR.MINOR or MAJOR.MINOR.PATCH")
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 4 || firstBad(p, isDigit) >= 0 || len(p) > 1 && p[0] == '0' {
			return fail(fmt.Sprintf("component %q is not a number", p))
		}
		n[i], _ = strconv.Atoi(p)
	}
	return Version{Major: n[0], Minor: n[1], Patch: n[2]}, nil
}
