package haproxy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/wslb/wslb/proxy"
)

// WebSockets records which proxies carry WebSocket traffic and why.
type WebSockets struct {
	// Backends maps backend and listen sections that serve WebSockets to
	// the reason, for messages.
	Backends map[*Section]proxy.Why
	// Frontends maps frontend and listen sections that route WebSocket
	// traffic to the reason.
	Frontends map[*Section]proxy.Why
}

// Serves reports whether a backend or listen section serves WebSockets.
func (w *WebSockets) Serves(s *Section) bool { _, ok := w.Backends[s]; return ok }

// Routes reports whether a frontend or listen section carries WebSockets.
func (w *WebSockets) Routes(s *Section) bool { _, ok := w.Frontends[s]; return ok }

// upgradeFetchRe matches a fetch on the Upgrade header, or on Connection
// (tested for "upgrade").
var upgradeFetchRe = regexp.MustCompile(`(?i)^(req\.)?(f?hdr|hdr_[a-z]+)\((upgrade|connection)[,)]`)

// pathFetchRe matches fetches on the request path or URL.
var pathFetchRe = regexp.MustCompile(`(?i)^(req\.)?(path|url|base)(_(beg|end|sub|reg|dir|str))?(,|$)`)

// HostFetchRe matches fetches on the Host header.
var HostFetchRe = regexp.MustCompile(`(?i)^(req\.)?(f?hdr|hdr_[a-z]+)\(host[,)]`)

// ReasonTunnel is the reason of a backend that is a WebSocket route only
// because it sets timeout tunnel.
const ReasonTunnel = "timeout tunnel is set"

// wsACL is an ACL that selects WebSocket requests.
type wsACL struct {
	reason   string
	line     int
	pollPath string // the first long-polling capable path it tests, or ""
	host     bool   // tests the Host header only
	upgrade  bool   // every line of it tests the Upgrade or Connection header
}

func hapWhere(line int) string { return fmt.Sprintf("line %d", line) }

// DetectWebSockets applies the documented definition: a backend or
// listen serves WebSockets when a use_backend selects it with an ACL on
// the Upgrade header, a well-known WebSocket path or a WebSocket host
// name, when it sets timeout tunnel itself, when a frontend that sets
// timeout tunnel routes to it, when its name announces it (ws,
// websocket, socket.io, ...), or when all is set. It also records whether
// long-polling or plain HTTP can reach the backend (proxy.Why.Polling).
func DetectWebSockets(c *Config, all bool) *WebSockets {
	w := &WebSockets{Backends: map[*Section]proxy.Why{}, Frontends: map[*Section]proxy.Why{}}
	mark := func(be *Section, why proxy.Why) {
		prev, ok := w.Backends[be]
		if !ok {
			w.Backends[be] = why
			return
		}
		if prev.Reason == ReasonTunnel && why.Reason != ReasonTunnel {
			// A rule that selects the backend is the better reason.
			prev.Reason, prev.Where = why.Reason, why.Where
		}
		if prev.Polling == "" && why.Polling != "" {
			prev.Polling = why.Polling
		}
		prev.LongPoll = prev.LongPoll || why.LongPoll
		w.Backends[be] = prev
	}
	for _, s := range c.Proxies() {
		if all {
			if s.SendsToServers() {
				w.Backends[s] = proxy.Why{Reason: "--websocket all is given"}
			}
			if s.HasFrontend() {
				w.Frontends[s] = proxy.Why{Reason: "--websocket all is given"}
			}
			continue
		}
		if !s.SendsToServers() {
			continue
		}
		if proxy.IsWebSocketName(s.Name) {
			why := proxy.Why{Reason: "its name says WebSocket", Where: hapWhere(s.Line)}
			if proxy.PollingNameRe.MatchString(s.Name) {
				why.Polling = "its name " + s.Name + " names a long-polling capable stack"
				why.LongPoll = proxy.LongPollRe.MatchString(s.Name)
			}
			mark(s, why)
		}
		if t := s.Own("timeout", "tunnel"); len(t) > 0 {
			mark(s, proxy.Why{Reason: ReasonTunnel, Where: hapWhere(t[len(t)-1].Line)})
		}
	}
	if all {
		return w
	}
	// plain records how plain HTTP reaches a backend: as a default
	// backend or through a rule that is not about WebSockets.
	plain := map[*Section]string{}
	for _, fe := range c.Proxies() {
		if !fe.HasFrontend() {
			continue
		}
		wsACLs := map[string]wsACL{}
		var first *Directive
		for _, d := range fe.Own("acl") {
			if prev, seen := wsACLs[d.Arg(0)]; seen {
				// Later lines of the same ACL are ORed in; the first says
				// why, but one that is not about the Upgrade header makes
				// the ACL match more than handshakes.
				if prev.upgrade && !(len(d.Args) > 1 && upgradeFetchRe.MatchString(d.Arg(1))) {
					prev.upgrade = false
					wsACLs[d.Arg(0)] = prev
				}
				continue
			}
			if a, ok := wsACLFor(d); ok {
				wsACLs[d.Arg(0)] = a
				if first == nil {
					first = d
				}
			}
		}
		if first != nil {
			a := wsACLs[first.Arg(0)]
			w.Frontends[fe] = proxy.Why{Reason: "it tests " + a.reason, Where: hapWhere(a.line)}
			if fe.Type == "listen" && fe.SendsToServers() {
				why := w.Frontends[fe]
				if a.pollPath != "" {
					why.Polling, why.LongPoll = a.polling()
				} else if mode, _ := fe.Mode(); mode == "http" {
					why.Polling = fe.Label() + " takes plain HTTP requests too"
				}
				mark(fe, why)
			}
		}
		tunnel := fe.Own("timeout", "tunnel")
		for _, d := range fe.Directives {
			if d.Keyword != "use_backend" && d.Keyword != "default_backend" || len(d.Args) == 0 {
				continue
			}
			be := c.Backend(d.Args[0])
			if be == nil {
				continue
			}
			cond := d.Args[1:]
			a, ok := conditionACL(cond, wsACLs)
			switch {
			case d.Keyword == "use_backend" && ok:
				why := proxy.Why{Reason: "it is selected by " + a.reason + " in " + fe.Label(), Where: hapWhere(d.Line)}
				if a.pollPath != "" {
					why.Polling, why.LongPoll = a.polling()
				} else if a.host {
					why.Polling = "every request to that host reaches it, plain HTTP too"
				}
				mark(be, why)
				w.Frontends[fe] = proxy.Why{Reason: "it routes WebSocket requests to " + be.Label(), Where: hapWhere(d.Line)}
				continue
			case len(tunnel) > 0 && (d.Keyword == "default_backend" || len(cond) == 0):
				mark(be, proxy.Why{Reason: fe.Label() + " sets timeout tunnel and routes here", Where: hapWhere(tunnel[len(tunnel)-1].Line)})
			}
			if _, seen := plain[be]; !seen {
				plain[be] = fmt.Sprintf("plain HTTP requests reach it too (%s %s in %s on line %d)", d.Keyword, be.Name, fe.Label(), d.Line)
			}
		}
	}
	for be, why := range w.Backends {
		if why.Polling != "" || plain[be] == "" {
			continue
		}
		if mode, _ := be.Mode(); mode != "http" {
			continue // TCP passthrough: the proxy sees no requests
		}
		why.Polling = plain[be]
		w.Backends[be] = why
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
					w.Frontends[fe] = proxy.Why{Reason: "it routes to " + be.Label(), Where: hapWhere(d.Line)}
				}
			}
		}
	}
	return w
}

// wsACLFor says whether an acl line matches WebSocket requests.
func wsACLFor(d *Directive) (wsACL, bool) {
	if len(d.Args) > 1 && HostFetchRe.MatchString(d.Arg(1)) {
		for _, v := range d.Args[2:] {
			if !strings.HasPrefix(v, "-") && proxy.IsWebSocketHost(v) {
				return wsACL{reason: "a Host ACL (" + v + ")", line: d.Line, host: true}, true
			}
		}
		if d.Arg(0) != "inline" && proxy.IsWebSocketName(d.Arg(0)) {
			return wsACL{reason: "Host ACL " + d.Arg(0), line: d.Line, host: true}, true
		}
		return wsACL{}, false
	}
	if r := wsACLReason(d); r != "" {
		a := wsACL{reason: r, line: d.Line, upgrade: upgradeFetchRe.MatchString(d.Arg(1))}
		if len(d.Args) > 1 && pathFetchRe.MatchString(d.Arg(1)) {
			if i := slices.IndexFunc(d.Args[2:], proxy.PollingPath); i >= 0 {
				a.pollPath = d.Args[2+i]
			}
		}
		return a, true
	}
	return wsACL{}, false
}

// polling is proxy.Why.Polling and proxy.Why.LongPoll for a route the ACL selects,
// read from the polling path itself: the reason may quote another path
// of the same ACL (path_beg /ws /socket.io).
func (a wsACL) polling() (string, bool) {
	return "its path ACL tests " + a.pollPath + ", a long-polling capable endpoint", proxy.LongPollRe.MatchString(a.pollPath)
}

// conditionACL reports whether an "if" condition selects WebSocket
// requests, through a named ACL or an inline one. A condition that ANDs
// an Upgrade header test with the others (a path, a host) only ever
// selects handshakes: the route is then pure WebSocket, whatever the
// path says about long-polling.
func conditionACL(args []string, wsACLs map[string]wsACL) (wsACL, bool) {
	if len(args) == 0 || args[0] != "if" {
		return wsACL{}, false
	}
	var found []wsACL
	ored := false
	for i, a := range args[1:] {
		if a == "or" || a == "||" {
			ored = true
		}
		if i > 0 && args[i] == "!" || strings.HasPrefix(a, "!") {
			continue // a negated test selects everything but WebSockets
		}
		if r, ok := wsACLs[a]; ok {
			found = append(found, r)
			continue
		}
		if a == "{" && i+2 < len(args) {
			inline := &Directive{Keyword: "acl", Args: append([]string{"inline"}, inlineACL(args[i+2:])...)}
			if r, ok := wsACLFor(inline); ok && r.reason != "ACL inline" {
				found = append(found, r)
			}
		}
	}
	if len(found) == 0 {
		return wsACL{}, false
	}
	if !ored {
		for _, r := range found {
			if r.upgrade {
				return r, true
			}
		}
	}
	return found[0], true
}

// wsACLReason says why an acl line matches WebSocket requests, or "".
func wsACLReason(d *Directive) string {
	if len(d.Args) < 2 {
		return ""
	}
	name, fetch := d.Arg(0), d.Arg(1)
	if upgradeFetchRe.MatchString(fetch) {
		return "an Upgrade header ACL"
	}
	if pathFetchRe.MatchString(fetch) {
		for _, v := range d.Args[2:] {
			if !strings.HasPrefix(v, "-") && proxy.IsWebSocketPath(v) {
				return "a WebSocket path ACL (" + v + ")"
			}
		}
	}
	if proxy.IsWebSocketName(name) {
		return "ACL " + name
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
