package haproxy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Proxies returns the sections that carry traffic: frontends, backends
// and listens, in file order.
func (c *Config) Proxies() []*Section {
	var out []*Section
	for _, s := range c.Sections {
		if s.IsProxy() {
			out = append(out, s)
		}
	}
	return out
}

// SectionsOf returns the sections of one type in file order.
func (c *Config) SectionsOf(typ string) []*Section {
	var out []*Section
	for _, s := range c.Sections {
		if s.Type == typ {
			out = append(out, s)
		}
	}
	return out
}

// Global returns the global section, or nil.
func (c *Config) Global() *Section {
	for _, s := range c.Sections {
		if s.Type == "global" {
			return s
		}
	}
	return nil
}

// Backend returns the backend or listen section that use_backend and
// default_backend can name, or nil.
func (c *Config) Backend(name string) *Section {
	if c.backends == nil { // a Config built by hand
		c.indexBackends()
	}
	return c.backends[name]
}

// indexBackends maps names to the first backend or listen section of
// that name: rules look one up per use_backend line, so a scan each time
// would make large configs quadratic.
func (c *Config) indexBackends() {
	c.backends = map[string]*Section{}
	for _, s := range c.Sections {
		if s.Type == "backend" || s.Type == "listen" {
			if _, dup := c.backends[s.Name]; !dup {
				c.backends[s.Name] = s
			}
		}
	}
}

// IsProxy reports whether the section is a frontend, backend or listen.
func (s *Section) IsProxy() bool {
	return s.Type == "frontend" || s.Type == "backend" || s.Type == "listen"
}

// HasFrontend reports whether the section accepts connections.
func (s *Section) HasFrontend() bool { return s.Type == "frontend" || s.Type == "listen" }

// HasBackend reports whether the section sends to servers.
func (s *Section) HasBackend() bool { return s.Type == "backend" || s.Type == "listen" }

// SendsToServers reports whether the section is judged as a backend: a
// backend, or a listen with servers. A listen without any (a stats page,
// a redirect) only answers by itself.
func (s *Section) SendsToServers() bool {
	if s.Type == "backend" {
		return true
	}
	if s.Type != "listen" {
		return false
	}
	for _, d := range s.Directives {
		switch d.Keyword {
		case "server", "server-template", "dispatch":
			return true
		}
	}
	return false
}

// Label is "backend app" style text for messages.
func (s *Section) Label() string {
	if s.Name == "" {
		return s.Type
	}
	return s.Type + " " + s.Name
}

// Is reports whether the directive's words start with words.
func (d *Directive) Is(words ...string) bool {
	if len(words) == 0 || d.Keyword != words[0] {
		return false
	}
	if len(d.Args) < len(words)-1 {
		return false
	}
	for i, w := range words[1:] {
		if d.Args[i] != w {
			return false
		}
	}
	return true
}

// Words are the directive's words: its keyword, then its arguments.
func (d *Directive) Words() []string { return append([]string{d.Keyword}, d.Args...) }

// Arg returns the i-th argument or "".
func (d *Directive) Arg(i int) string {
	if i < 0 || i >= len(d.Args) {
		return ""
	}
	return d.Args[i]
}

// Own returns the section's own directives starting with words.
func (s *Section) Own(words ...string) []*Directive {
	var out []*Directive
	for _, d := range s.Directives {
		if d.Is(words...) {
			out = append(out, d)
		}
	}
	return out
}

// Lookup returns the effective directive starting with words: the last
// one in the section, else the one inherited from its defaults chain.
func (s *Section) Lookup(words ...string) *Directive {
	for sec, depth := s, 0; sec != nil && depth < maxDefaultsDepth; sec, depth = sec.Defaults, depth+1 {
		for i := len(sec.Directives) - 1; i >= 0; i-- {
			if sec.Directives[i].Is(words...) {
				return sec.Directives[i]
			}
		}
	}
	return nil
}

// maxDefaultsDepth bounds walks up "from" chains.
const maxDefaultsDepth = 64

// Mode is the effective proxy mode ("http" or "tcp", HAProxy's default)
// and the directive that set it (nil when defaulted).
func (s *Section) Mode() (string, *Directive) {
	if d := s.Lookup("mode"); d != nil {
		return d.Arg(0), d
	}
	return "tcp", nil
}

// Option reports whether "option NAME" is in effect, honouring "no
// option NAME" and inheritance; d is the deciding line (nil if never set).
func (s *Section) Option(name string) (on bool, d *Directive) {
	for sec, depth := s, 0; sec != nil && depth < maxDefaultsDepth; sec, depth = sec.Defaults, depth+1 {
		for i := len(sec.Directives) - 1; i >= 0; i-- {
			x := sec.Directives[i]
			if x.Is("option", name) {
				return true, x
			}
			if x.Is("no", "option", name) {
				return false, x
			}
		}
	}
	return false, nil
}

// Timeout returns the effective "timeout NAME" value and its line.
func (s *Section) Timeout(name string) (time.Duration, *Directive, bool) {
	d := s.Lookup("timeout", name)
	if d == nil || len(d.Args) < 2 {
		return 0, d, false
	}
	v, err := ParseDuration(d.Args[1])
	if err != nil {
		return 0, d, false
	}
	return v, d, true
}

// Servers are the section's server lines (not default-server).
func (s *Section) Servers() []*Directive { return s.Own("server") }

// ParseDuration reads an HAProxy time: a number with an optional unit
// (us, ms, s, m, h, d); without a unit HAProxy means milliseconds.
func ParseDuration(v string) (time.Duration, error) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("%q is not a time", v)
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", v, err)
	}
	unit := map[string]time.Duration{
		"": time.Millisecond, "us": time.Microsecond, "ms": time.Millisecond,
		"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
	}
	u, ok := unit[strings.ToLower(v[i:])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown time unit", v)
	}
	return time.Duration(n) * u, nil
}
