package rules

import (
	"regexp"
	"strings"

	"github.com/wslb/wslb/validate/haproxy"
)

// HAProxyWebSockets records which proxies carry WebSocket traffic and why.
type HAProxyWebSockets struct {
	// Backends maps backend and listen sections that serve WebSockets to
	// the reason, for messages.
	Backends map[*haproxy.Section]string
	// Frontends maps frontend and listen sections that route WebSocket
	// traffic to the reason.
	Frontends map[*haproxy.Section]string
}

// Serves reports whether a backend or listen section serves WebSockets.
func (w *HAProxyWebSockets) Serves(s *haproxy.Section) bool { _, ok := w.Backends[s]; return ok }

// Routes reports whether a frontend or listen section carries WebSockets.
func (w *HAProxyWebSockets) Routes(s *haproxy.Section) bool { _, ok := w.Frontends[s]; return ok }

// upgradeFetchRe matches a fetch on the Upgrade header, or on Connection
// (tested for "upgrade").
var upgradeFetchRe = regexp.MustCompile(`(?i)^(req\.)?(f?hdr|hdr_[a-z]+)\((upgrade|connection)[,)]`)

// pathFetchRe matches fetches on the request path or URL.
var pathFetchRe = regexp.MustCompile(`(?i)^(req\.)?(path|url|base)(_(beg|end|sub|reg|dir|str))?(,|$)`)

// DetectHAProxyWebSockets applies the documented definition: a backend or
// listen serves WebSockets when a use_backend selects it with an ACL on
// the Upgrade header or a well-known WebSocket path, when its name
// announces it (ws, websocket, socket.io, ...), or when all is set.
func DetectHAProxyWebSockets(c *haproxy.Config, all bool) *HAProxyWebSockets {
	w := &HAProxyWebSockets{Backends: map[*haproxy.Section]string{}, Frontends: map[*haproxy.Section]string{}}
	for _, s := range c.Proxies() {
		if all {
			if s.HasBackend() {
				w.Backends[s] = "--websocket all"
			}
			if s.HasFrontend() {
				w.Frontends[s] = "--websocket all"
			}
			continue
		}
		if s.HasBackend() && isWebSocketName(s.Name) {
			w.Backends[s] = "its name says WebSocket"
		}
	}
	if all {
		return w
	}
	for _, fe := range c.Proxies() {
		if !fe.HasFrontend() {
			continue
		}
		wsACLs := map[string]string{}
		for _, d := range fe.Own("acl") {
			if r := wsACLReason(d); r != "" {
				wsACLs[d.Arg(0)] = r
			}
		}
		if len(wsACLs) > 0 {
			w.Frontends[fe] = "it tests the Upgrade header or a WebSocket path"
			if fe.Type == "listen" {
				w.Backends[fe] = w.Frontends[fe]
			}
		}
		for _, d := range fe.Own("use_backend") {
			if len(d.Args) == 0 {
				continue
			}
			reason := conditionReason(d.Args[1:], wsACLs)
			if reason == "" {
				continue
			}
			w.Frontends[fe] = "it routes WebSocket requests"
			if be := c.Backend(d.Args[0]); be != nil {
				if _, ok := w.Backends[be]; !ok {
					w.Backends[be] = "it is selected by " + reason + " in " + fe.Label()
				}
			}
		}
	}
	// A frontend whose default or selected backend serves WebSockets
	// carries WebSocket traffic too.
	for _, fe := range c.Proxies() {
		if !fe.HasFrontend() {
			continue
		}
		for _, d := range append(fe.Own("use_backend"), fe.Own("default_backend")...) {
			if be := c.Backend(d.Arg(0)); be != nil && w.Serves(be) {
				if _, ok := w.Frontends[fe]; !ok {
					w.Frontends[fe] = "it routes to " + be.Label()
				}
			}
		}
	}
	return w
}

// wsACLReason says why an acl line matches WebSocket requests, or "".
func wsACLReason(d *haproxy.Directive) string {
	if len(d.Args) < 2 {
		return ""
	}
	name, fetch := d.Arg(0), d.Arg(1)
	if upgradeFetchRe.MatchString(fetch) {
		return "an Upgrade header ACL"
	}
	if pathFetchRe.MatchString(fetch) {
		for _, v := range d.Args[2:] {
			if !strings.HasPrefix(v, "-") && isWebSocketPath(v) {
				return "a WebSocket path ACL (" + v + ")"
			}
		}
	}
	if isWebSocketName(name) {
		return "ACL " + name
	}
	return ""
}

// conditionReason reports whether an "if/unless" condition selects
// WebSocket requests, through a named ACL or an inline one.
func conditionReason(args []string, wsACLs map[string]string) string {
	if len(args) == 0 || args[0] != "if" {
		return ""
	}
	for i, a := range args[1:] {
		if r, ok := wsACLs[a]; ok {
			return r
		}
		if a == "{" && i+2 < len(args) {
			inline := &haproxy.Directive{Keyword: "acl", Args: append([]string{"inline"}, inlineACL(args[i+2:])...)}
			if r := wsACLReason(inline); r != "" && r != "ACL inline" {
				return r
			}
		}
	}
	return ""
}

func inlineACL(args []string) []string {
	var out []string
	for _, a := range args {
		if a == "}" {
			break
		}
		out = append(out, a)
	}
	return out
}
