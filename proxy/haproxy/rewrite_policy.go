package haproxy

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/wslb/wslb/proxy/rewrite"
)

// The rewrite fails closed: a line whose keyword it does not know, or
// knows to open a socket, a file or a process it cannot make local, stops
// verify with an error naming the line instead of passing through. The
// lists below are what it knows; everything else is refused.

// haproxyProxyKeywords are the defaults/frontend/backend/listen keywords
// kept as written: they shape traffic between the local listener and the
// echo backends and open nothing else. Keywords with arguments that can
// name files or other hosts are checked by checkHAProxyLine.
var haproxyProxyKeywords = set(
	"mode", "balance", "hash-type", "hash-balance-factor", "hash-key", "timeout", "option", "no",
	"acl", "use_backend", "default_backend", "use-server", "force-persist", "ignore-persist", "persist",
	"http-request", "http-response", "http-after-response", "tcp-request", "tcp-response",
	"stick", "stick-table", "stick-store", "cookie", "dynamic-cookie-key", "maxconn", "fullconn", "retries", "retry-on",
	"compression", "capture", "declare", "description", "id", "disabled", "enabled", "rate-limit",
	"monitor-uri", "monitor", "monitor-net", "unique-id-format", "unique-id-header", "log-format", "log-format-sd",
	"error-log-format", "log-tag", "http-reuse", "http-check", "tcp-check", "redirect", "server",
	"default-server", "bind", "log", "errorfile", "errorfiles", "http-error", "backlog", "grace",
	"http-send-name-header", "max-keep-alive-queue", "max-session-srv-conns", "stats", "filter",
	"clitcpka-cnt", "clitcpka-idle", "clitcpka-intvl", "srvtcpka-cnt", "srvtcpka-idle", "srvtcpka-intvl",
	"bind-process", "email-alert", "source", "dispatch", "server-template", "server-state-file-name",
	"load-server-state-from-file", "external-check", "guid", "use-fcgi-app",
)

// haproxyGlobalKeywords are the global keywords kept as written (process
// tuning); dropGlobal lists the ones removed.
var haproxyGlobalKeywords = set(
	"maxconn", "maxconnrate", "maxsessrate", "maxsslconn", "maxsslrate", "maxcomprate", "maxcompcpuusage",
	"maxpipes", "maxzlibmem", "nbthread", "thread-groups", "hard-stop-after", "grace", "close-spread-time",
	"spread-checks", "max-spread-checks", "description", "node", "ulimit-n", "fd-hard-limit", "quiet",
	"zero-warning", "busy-polling", "noepoll", "nopoll", "nosplice", "nogetaddrinfo", "noreuseport",
	"noevports", "nokqueue", "h1-case-adjust", "h2-workaround-bogus-websocket-clients", "strict-limits",
	"mworker-max-reloads", "numa-cpu-mapping", "setenv", "presetenv", "resetenv", "unsetenv",
	"ssl-default-bind-ciphers", "ssl-default-bind-ciphersuites", "ssl-default-bind-options",
	"ssl-default-bind-curves", "ssl-default-bind-sigalgs", "ssl-default-bind-client-sigalgs",
	"ssl-default-server-ciphers", "ssl-default-server-ciphersuites", "ssl-default-server-options",
	"ssl-default-server-curves", "ssl-default-server-sigalgs", "ssl-default-server-client-sigalgs",
	"ssl-mode-async", "ssl-skip-self-issued-ca", "ssl-load-extra-del-ext", "ca-base", "crt-base",
	"default-path", "expose-experimental-directives", "cluster-secret", "log-tag", "profiling.tasks",
	"profiling.memory", "lua-load", "lua-load-per-thread", "lua-prepend-path", "insecure-fork-wanted",
	"insecure-setuid-wanted", "http-err-codes", "http-fail-codes", "stats", "debug",
)

// haproxyActions are the http-request/http-response/tcp-* actions kept:
// they change the traffic and never connect elsewhere, resolve names, or
// start a service. return and the map/ACL actions are checked for files.
var haproxyActions = set(
	"allow", "deny", "reject", "tarpit", "auth", "redirect", "return", "silent-drop", "wait-for-body",
	"wait-for-handshake", "add-header", "set-header", "del-header", "replace-header", "replace-value",
	"append-header", "early-hint", "set-path", "set-pathq", "set-query", "set-uri", "set-method",
	"replace-path", "replace-pathq", "replace-uri", "set-status", "set-var", "set-var-fmt", "unset-var",
	"set-log-level", "set-nice", "set-tos", "set-mark", "set-priority-class", "set-priority-offset",
	"set-src", "set-src-port", "capture", "track-sc", "sc-inc-gpc", "sc-set-gpt", "sc-add-gpc",
	"cache-use", "cache-store", "normalize-uri", "strict-mode", "disable-l7-retry", "set-timeout",
	"set-bandwidth-limit", "set-map", "del-map", "add-acl", "del-acl", "expect-proxy", "expect-netscaler-cip",
	"accept", "close", "set-fc-mark", "set-fc-tos", "switch-mode", "lua",
)

// haproxyRefusedActions reach other hosts or run services; the reason is
// the error's.
var haproxyRefusedActions = map[string]string{
	"do-resolve":      "resolves names with a resolvers section",
	"set-dst":         "sends the connection to another destination",
	"set-dst-port":    "sends the connection to another destination",
	"use-service":     "hands the request to a service (Lua or built-in)",
	"send-spoe-group": "talks to an SPOE agent",
}

// haproxySectionKeywords lists, for the other sections verify keeps, the
// keywords kept.
var haproxySectionKeywords = map[string]map[string]bool{
	"userlist":    set("user", "group"),
	"cache":       set("total-max-size", "max-object-size", "max-age", "process-vary", "max-secondary-entries"),
	"http-errors": set("errorfile"),
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// actionName reduces "set-var(txn.x)", "track-sc0", "sc-inc-gpc1(0)" and
// "lua.auth" to the action they name.
func actionName(w string) string {
	if i := strings.IndexByte(w, '('); i >= 0 {
		w = w[:i]
	}
	if strings.HasPrefix(w, "lua.") {
		return "lua"
	}
	return strings.TrimRight(w, "0123456789")
}

// droppedGlobal reports whether the render drops a global keyword: those
// in dropGlobal, every TLS setting (TLS is removed; ssl-provider and
// ssl-dh-param-file would load a library or read a file) and the Lua
// HTTP client's settings.
func droppedGlobal(kw string) bool {
	if _, ok := dropGlobal[kw]; ok {
		return true
	}
	return strings.HasPrefix(kw, "ssl-") || strings.HasPrefix(kw, "httpclient.") ||
		kw == "issuers-chain-path" || kw == "h1-case-adjust-file" || kw == "set-dumpable"
}

// checkHAProxyLine returns an *rewrite.Error when line l of a section of type
// kind may open a socket, a file or a process that the rewrite cannot
// make local. Lines the render drops or rewrites pass.
func (h *haproxyConfig) checkHAProxyLine(kind string, l *Directive) error {
	kw := l.Keyword
	refuse := func(format string, args ...any) error {
		return &rewrite.Error{File: h.file, Line: l.Line, Msg: fmt.Sprintf(format, args...) + "; verify stops rather than run what it cannot make local"}
	}
	if why, ok := RunsCode(kind, kw, l.Args); ok && !h.allowCode {
		return rewrite.CodeError(h.file, l.Line, kw, why)
	}
	switch kind {
	case "global":
		if droppedGlobal(kw) {
			return nil
		}
		if !haproxyGlobalKeywords[kw] && !strings.HasPrefix(kw, "tune.") {
			return refuse("global keyword %q is not one verify knows to be local", kw)
		}
		return h.checkFiles(l)
	case "frontend", "backend", "listen", "defaults":
	default:
		if known := haproxySectionKeywords[kind]; known != nil {
			if !known[kw] {
				return refuse("%q in a %s section is not a keyword verify knows to be local", kw, kind)
			}
			return h.checkFiles(l)
		}
		return refuse("%s sections are not supported by verify", kind)
	}
	if !haproxyProxyKeywords[kw] {
		return refuse("%q is not a keyword verify knows to be local", kw)
	}
	words := l.Words()
	if kw == "no" {
		return nil // "no option X" turns something off
	}
	switch words[0] {
	case "option":
		if len(words) > 1 && words[1] == "http_proxy" {
			return refuse("option http_proxy connects to the host each request names")
		}
	case "filter":
		if len(words) > 1 && words[1] != "compression" && words[1] != "cache" && words[1] != "trace" && words[1] != "bwlim-in" && words[1] != "bwlim-out" {
			return refuse("filter %s may connect elsewhere (SPOE) or is unknown to verify", words[1])
		}
	case "use-fcgi-app":
		return refuse("FastCGI applications cannot be verified")
	case "http-request", "http-response", "http-after-response", "tcp-request", "tcp-response":
		i := 1
		if strings.HasPrefix(words[0], "tcp-") {
			i = 2 // tcp-request content ACTION
			if len(words) > 1 && words[1] == "inspect-delay" {
				i = len(words) // no action
			}
		}
		if i < len(words) {
			act := actionName(words[i])
			if why, ok := haproxyRefusedActions[act]; ok {
				return refuse("%s %s %s", words[0], words[i], why)
			}
			if !haproxyActions[act] {
				return refuse("%s action %q is not one verify knows to be local", words[0], words[i])
			}
		}
	}
	return h.checkFiles(l)
}

// checkFiles checks every file l names (FilesNamed, the list
// validate --exec uses). The options of bind, server and default-server
// lines are left out: the render keeps none that names a file.
func (h *haproxyConfig) checkFiles(l *Directive) error {
	switch l.Keyword {
	case "bind", "server", "default-server":
		return nil
	}
	for _, f := range FilesNamed(l.Keyword, l.Args) {
		if err := h.checkPath(l, f.Path); err != nil {
			return err
		}
	}
	return nil
}

// checkPath refuses a file the reader would refuse (outside the
// directories it allows, a FIFO or device, too large): the proxy would
// read it (and may quote it in errors). Relative paths are taken from the
// config's directory, as the render writes them. A file that does not
// exist here is read by nobody: the render drops such errorfiles, and
// HAProxy refuses the others.
func (h *haproxyConfig) checkPath(l *Directive, p string) error {
	if p == "" {
		return nil
	}
	if why := h.reader.Refusal(h.absPath(p)); why != "" {
		return &rewrite.Error{File: h.file, Line: l.Line, Msg: fmt.Sprintf("%s names %s: %s; verify only lets the proxy read regular files below the config's directory and --include-root", l.Keyword, p, why)}
	}
	return nil
}

// absPath resolves p from the config's directory.
func (h *haproxyConfig) absPath(p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(h.dir, p)
	}
	return filepath.Clean(p)
}
