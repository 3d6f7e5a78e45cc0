package rules

import (
	"strings"

	"github.com/wslb/wslb/proxy/nginx"
)

// nginxMaps returns the map blocks by the variable they define.
func nginxMaps(c *nginx.Config) map[string]*nginx.Node {
	out := map[string]*nginx.Node{}
	for _, m := range c.All("map") {
		if len(m.Args) == 2 {
			out[m.Args[1]] = m
		}
	}
	return out
}

// mapValue returns the value a map gives for key ("default" for the
// default entry) and the entry line, nil when there is none.
func mapValue(m *nginx.Node, key string) (string, *nginx.Node) {
	for _, e := range m.Children {
		if e.Name == key {
			return e.Arg(0), e
		}
	}
	return "", nil
}

// connectionVariable returns the variable a proxy_set_header Connection
// value is ($connection_upgrade, also written ${connection_upgrade}), or
// "" when the value is not one variable.
func connectionVariable(h *nginx.Node) string {
	if name, rest, ok := leadingVariable(strings.TrimSpace(h.Arg(1))); ok && rest == "" {
		return "$" + name
	}
	return ""
}

// leadingVariable returns the name of the nginx variable v starts with,
// $name or ${name}, and the text after it; ok is false when v does not
// start with a variable.
func leadingVariable(v string) (name, rest string, ok bool) {
	s, found := strings.CutPrefix(v, "$")
	if !found {
		return "", v, false
	}
	if inner, braced := strings.CutPrefix(s, "{"); braced {
		name, rest, ok = strings.Cut(inner, "}")
		return name, rest, ok && name != ""
	}
	i := 0
	for i < len(s) && (s[i] == '_' || '0' <= s[i] && s[i] <= '9' || 'a' <= s[i]|0x20 && s[i]|0x20 <= 'z') {
		i++
	}
	return s[:i], s[i:], i > 0
}

// builtinVariable reports whether v is an nginx variable that needs no
// map or set: a request header, a response header, an argument, a cookie.
func builtinVariable(v string) bool {
	return strings.HasPrefix(v, "$http_") || strings.HasPrefix(v, "$sent_http_") || v == "$connection" || strings.HasPrefix(v, "$arg_") || strings.HasPrefix(v, "$cookie_")
}
