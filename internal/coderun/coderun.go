// Package coderun names the proxy directives that run code of the
// config's choosing: Lua, Perl and njs scripts, dynamic modules, external
// programs. validate reports them (WSLB150, WSLB250); validate --exec and
// verify refuse to start a proxy with them unless --allow-code is given.
// Keywords are matched after unquoting, as the proxy reads them.
package coderun

import "strings"

// HAProxy reports whether a keyword in a section of type section runs
// code, with a short reason. args are the keyword's arguments.
func HAProxy(section, kw string, args []string) (why string, ok bool) {
	if kw == "no" && len(args) > 0 {
		return "", false // "no option external-check" turns it off
	}
	switch {
	case section == "program":
		return "a program section starts an external program", true
	case kw == "lua-load" || kw == "lua-load-per-thread":
		return "it loads and runs a Lua script", true
	case kw == "lua-prepend-path":
		return "it makes Lua load code from another path", true
	case kw == "external-check":
		return "it runs an external program for health checks", true
	case kw == "option" && len(args) > 0 && args[0] == "external-check":
		return "it runs an external program for health checks", true
	case kw == "insecure-fork-wanted" || kw == "insecure-setuid-wanted":
		return "it lets Lua and external checks start processes", true
	case luaAction(kw, args):
		return "it runs a Lua action", true
	}
	return "", false
}

// luaAction reports whether an http-*/tcp-* rule's action is a Lua
// action (lua.NAME); tcp rules name their action after the hook
// ("tcp-request content lua.NAME").
func luaAction(kw string, args []string) bool {
	i := 0
	switch kw {
	case "http-request", "http-response", "http-after-response":
	case "tcp-request", "tcp-response":
		i = 1
	default:
		return false
	}
	return i < len(args) && strings.HasPrefix(args[i], "lua.")
}

// HAProxyEnv reports whether a global keyword sets environment variables
// that code-running directives read (setenv, presetenv, resetenv,
// unsetenv); they are refused with that code, not on their own.
func HAProxyEnv(kw string) bool {
	switch kw {
	case "setenv", "presetenv", "resetenv", "unsetenv":
		return true
	}
	return false
}

// HAProxySection reports whether a section keyword opens a section that
// runs code.
func HAProxySection(kw string) bool { return kw == "program" }

// Nginx reports whether an nginx directive runs code, with a reason:
// load_module, the perl module, njs (js_*) and OpenResty's Lua (lua_*,
// *_by_lua*).
func Nginx(name string) (why string, ok bool) {
	switch {
	case name == "load_module":
		return "it loads a shared library into nginx", true
	case strings.HasPrefix(name, "perl"):
		return "it runs Perl code inside nginx", true
	case strings.HasPrefix(name, "js_") || name == "njs":
		return "it runs JavaScript (njs) inside nginx", true
	case strings.HasPrefix(name, "lua") || strings.Contains(name, "_by_lua"):
		return "it runs Lua code inside nginx", true
	}
	return "", false
}
