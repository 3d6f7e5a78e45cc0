package nginx

import (
	"strconv"
	"strings"
	"time"
)

// Walk calls fn for every node, depth first, in file order.
func (c *Config) Walk(fn func(*Node)) { walk(c.Root, fn, 0) }

func walk(ns []*Node, fn func(*Node), depth int) {
	if depth > maxDepth {
		return
	}
	for _, n := range ns {
		fn(n)
		walk(n.Children, fn, depth+1)
	}
}

// All returns every node with the given name.
func (c *Config) All(name string) []*Node {
	var out []*Node
	c.Walk(func(n *Node) {
		if n.Name == name {
			out = append(out, n)
		}
	})
	return out
}

// Top returns top-level (main context) directives with name.
func (c *Config) Top(name string) []*Node {
	var out []*Node
	for _, n := range c.Root {
		if n.Name == name {
			out = append(out, n)
		}
	}
	return out
}

// Upstream returns the upstream block with that name, or nil.
func (c *Config) Upstream(name string) *Node {
	if c.upstreams == nil {
		c.upstreams = map[string]*Node{}
		for _, u := range c.All("upstream") {
			if len(u.Args) > 0 {
				if _, dup := c.upstreams[u.Args[0]]; !dup {
					c.upstreams[u.Args[0]] = u
				}
			}
		}
	}
	return c.upstreams[name]
}

// Own returns the node's direct children named name.
func (n *Node) Own(name string) []*Node {
	if n.byName != nil {
		own := n.byName[name]
		return own[:len(own):len(own)]
	}
	var out []*Node
	for _, ch := range n.Children {
		if ch.Name == name {
			out = append(out, ch)
		}
	}
	return out
}

// Effective returns the directives named name that apply inside n, by
// nginx's inheritance: the nearest enclosing block (n itself first) that
// has any such directive supplies all of them; blocks below it inherit
// nothing from above. This is how proxy_set_header, proxy_*_timeout and
// proxy_http_version behave. The block that supplied them is returned too
// (nil when nothing sets them).
func (n *Node) Effective(name string) ([]*Node, *Node) {
	for b, depth := n, 0; b != nil && depth <= maxDepth; b, depth = b.Parent, depth+1 {
		if own := b.Own(name); len(own) > 0 {
			return own, b
		}
	}
	return nil, nil
}

// EffectiveOne is Effective for single-valued directives: the last one.
func (n *Node) EffectiveOne(name string) *Node {
	ds, _ := n.Effective(name)
	if len(ds) == 0 {
		return nil
	}
	return ds[len(ds)-1]
}

// Arg returns the i-th argument or "".
func (n *Node) Arg(i int) string {
	if i < 0 || i >= len(n.Args) {
		return ""
	}
	return n.Args[i]
}

// Enclosing returns the nearest ancestor named name, or nil.
func (n *Node) Enclosing(name string) *Node {
	for b, depth := n.Parent, 0; b != nil && depth <= maxDepth; b, depth = b.Parent, depth+1 {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// Label is "location /ws" style text for messages.
func (n *Node) Label() string {
	if len(n.Args) == 0 {
		return n.Name
	}
	return n.Name + " " + strings.Join(n.Args, " ")
}

// ParseDuration reads an nginx time ("60", "90s", "1h", "1h30m", "500ms").
// A bare number means seconds.
func ParseDuration(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	units := map[string]time.Duration{
		"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
		"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "M": 30 * 24 * time.Hour, "y": 365 * 24 * time.Hour,
	}
	var total time.Duration
	for v != "" {
		i := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, false
		}
		num, err := strconv.ParseInt(v[:i], 10, 64)
		if err != nil {
			return 0, false
		}
		v = v[i:]
		j := 0
		for j < len(v) && (v[j] < '0' || v[j] > '9') {
			j++
		}
		unit := v[:j]
		v = v[j:]
		if unit == "" {
			if v != "" {
				return 0, false
			}
			unit = "s"
		}
		u, ok := units[unit]
		if !ok {
			return 0, false
		}
		total += time.Duration(num) * u
	}
	return total, true
}

// ParseInt reads a plain decimal nginx number.
func ParseInt(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// indexThreshold is the number of children above which a block indexes
// them by name: Effective asks every enclosing block, and an http block
// with thousands of servers scanned once per location is quadratic.
const indexThreshold = 32

// indexChildren builds n.byName for blocks with many children; it runs
// once, while the tree is built, so reads need no lock.
func (n *Node) indexChildren() {
	if len(n.Children) <= indexThreshold {
		return
	}
	n.byName = map[string][]*Node{}
	for _, ch := range n.Children {
		n.byName[ch.Name] = append(n.byName[ch.Name], ch)
	}
}
