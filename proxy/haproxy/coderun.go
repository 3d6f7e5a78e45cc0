package haproxy

import "strings"

// The keywords that run code of the config's choosing: Lua scripts and
// actions, external programs and checks. validate reports them
// (WSLB250); validate --exec and verify refuse to start HAProxy with them
// unless --allow-code is given. Keywords are matched after unquoting, as
// HAProxy reads them.

// RunsCode reports whether a keyword in a section of type section runs
// code, with a short reason. args are the keyword's arguments.
func RunsCode(section, kw string, args []string) (why string, ok bool) {
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

// SetsCodeEnv reports whether a global keyword sets environment variables
// that code-running directives read (setenv, presetenv, resetenv,
// unsetenv); they are refused with that code, not on their own.
func SetsCodeEnv(kw string) bool {
	switch kw {
	case "setenv", "presetenv", "resetenv", "unsetenv":
		return true
	}
	return false
}

// CodeSection reports whether a section keyword opens a section that
// runs code.
func CodeSection(kw string) bool { return kw == "program" }
