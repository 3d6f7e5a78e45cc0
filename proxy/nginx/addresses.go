package nginx

import (
	"strings"

	"github.com/wslb/wslb/proxy"
)

// ServerAddresses lists the upstream server addresses of c and the
// targets of its *_pass directives that name no upstream, placed where
// they are written plainly.
func (c *Config) ServerAddresses() []proxy.Address {
	var out []proxy.Address
	starts := map[string][]int{} // per file, computed once
	c.Walk(func(x *Node) {
		var tok string
		switch {
		case x.Name == "server" && x.Parent != nil && x.Parent.Name == "upstream":
			tok = x.Arg(0)
		case strings.HasSuffix(x.Name, "_pass") && x.Name != "proxy_pass_header":
			tok = x.Arg(0)
		default:
			return
		}
		host, at := proxy.URLHost(tok)
		if x.Name != "server" && c.Upstream(host) != nil {
			return // names an upstream block, not a host
		}
		src := c.sources[x.File]
		if starts[x.File] == nil {
			starts[x.File] = proxy.LineStarts(src)
		}
		out = append(out, proxy.Address{File: x.File, Off: argOffset(src, starts[x.File], x, tok), Token: tok, Host: host, At: at})
	})
	return out
}

// argOffset finds the first argument of a directive as written in data
// (whose LineStarts are starts), bare or in quotes, on the directive's
// line after its name; -1 when it is not there verbatim (escapes, or on a
// later line).
func argOffset(data []byte, starts []int, x *Node, arg string) int {
	if x.Column < 1 || x.Line < 1 || arg == "" {
		return -1
	}
	if x.Line > len(starts) {
		return -1
	}
	i := starts[x.Line-1] + x.Column - 1 + len(x.Name)
	for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
		i++
	}
	if i < len(data) && (data[i] == '"' || data[i] == '\'') {
		i++
	}
	if i+len(arg) <= len(data) && string(data[i:i+len(arg)]) == arg {
		return i
	}
	return -1
}
