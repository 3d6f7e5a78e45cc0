package nginx

import "strings"

// RunsCode reports whether a directive runs code of the config's
// choosing, with a reason: load_module, the perl module, njs (js_*) and
// OpenResty's Lua (lua_*, *_by_lua*). validate reports them (WSLB150);
// validate --exec and verify refuse to start nginx with them unless
// --allow-code is given.
func RunsCode(name string) (why string, ok bool) {
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
