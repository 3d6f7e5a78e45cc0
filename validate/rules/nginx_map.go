package rules

import (
	"strings"

	"github.com/wslb/wslb/validate/nginx"
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
// value uses ($connection_upgrade), or "".
func connectionVariable(h *nginx.Node) string {
	v := strings.TrimSpace(h.Arg(1))
	if strings.HasPrefix(v, "$") && !strings.ContainsAny(v[1:], " $") {
		return strings.Trim(v, "{}")
	}
	return ""
}

// builtinVariable reports whether v is an nginx variable that needs no
// map or set: a request header, a response header, an argument, a cookie.
func builtinVariable(v string) bool {
	return strings.HasPrefix(v, "$http_") || strings.HasPrefix(v, "$sent_http_") || v == "$connection" || strings.HasPrefix(v, "$arg_") || strings.HasPrefix(v, "$cookie_")
}
