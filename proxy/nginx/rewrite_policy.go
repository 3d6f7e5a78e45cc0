package nginx

import (
	"fmt"
	"github.com/wslb/wslb/proxy/rewrite"
	"path/filepath"
	"strings"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/wslb/wslb/internal/safefile"
)

// nginxStores write response bodies to files; anything but "off" is
// refused.
var nginxStores = map[string]bool{"proxy_store": true, "fastcgi_store": true, "uwsgi_store": true, "scgi_store": true}

// nginxFileDirectives read files named in their arguments, besides every
// *_file, *_path and *_log directive.
var nginxFileDirectives = map[string]bool{"xslt_stylesheet": true, "geoip_country": true, "geoip_city": true, "geoip_org": true, "geoip2": true, "google_perftools_profiles": true, "ssl_dhparam": true}

// nginxRewrittenPaths are the path directives the render drops or points
// at the scratch dir, so their arguments need no check.
func nginxRewrittenPath(name string) bool {
	if _, dropped := nginxDrop[name]; dropped {
		return true
	}
	switch name {
	case "proxy_cache_path", "fastcgi_cache_path", "uwsgi_cache_path", "scgi_cache_path", "include":
		return true
	}
	return nginxTLS(name)
}

// nginxTLS reports whether a directive configures TLS or QUIC, which the
// render drops (clients speak plain HTTP).
func nginxTLS(name string) bool {
	return strings.HasPrefix(name, "ssl_") || strings.Contains(name, "_ssl") ||
		strings.HasPrefix(name, "quic") || strings.HasPrefix(name, "http3")
}

// checkDirective returns an *rewrite.Error when d runs code (without
// --allow-code) or names a file outside the config's directory that the
// rendered config would still read or write. Sockets are handled by the
// render: listen, proxy_pass and upstream servers are made local,
// resolver is dropped, the other *_pass directives answer 502.
func (n *nginxConfig) checkDirective(d *crossplane.Directive) error {
	name := d.Directive
	if why, ok := RunsCode(name); ok && !n.allowCode {
		return rewrite.CodeError(d.File, d.Line, name, why)
	}
	if nginxStores[name] && len(d.Args) > 0 && d.Args[0] != "off" {
		return &rewrite.Error{File: d.File, Line: d.Line, Msg: fmt.Sprintf("%s writes responses to files; verify stops rather than let the proxy write outside its scratch dir", name)}
	}
	fileArgs := nginxFileDirectives[name] || strings.HasSuffix(name, "_file") || strings.HasSuffix(name, "_path") || strings.HasSuffix(name, "_log")
	if !fileArgs || nginxRewrittenPath(name) {
		return nil
	}
	for _, a := range d.Args {
		if !strings.Contains(a, "/") || strings.Contains(a, "://") || strings.Contains(a, "=") {
			continue
		}
		if strings.Contains(a, "$") {
			return &rewrite.Error{File: d.File, Line: d.Line, Msg: fmt.Sprintf("%s %s: a path built from variables may name any file; verify stops rather than let the proxy read it", name, a)}
		}
		p := a
		if !filepath.IsAbs(p) {
			p = filepath.Join(n.dir, p)
		}
		if !n.reader.Within(p) {
			return &rewrite.Error{File: d.File, Line: d.Line, Msg: outsideRoots(name, a, n.reader)}
		}
	}
	return nil
}

// outsideRoots is the message for a directive kw naming a file p that r
// does not allow.
func outsideRoots(kw, p string, r *safefile.Reader) string {
	return fmt.Sprintf("%s names %s, outside %s; verify only lets the proxy read files below the config's directory and --include-root", kw, p, strings.Join(r.Roots(), ", "))
}
