package haproxy

import "regexp"

// The one list of where HAProxy's grammar names a file or directory the
// proxy reads: validate --exec refuses to run haproxy -c on files outside
// the roots, and verify's rewrite refuses to run the proxy on them.

// fileOptions are the words followed by a file (or a directory of files):
// bind/server/check options, ACL pattern flags, http-request return and
// http-error options.
var fileOptions = map[string]bool{
	"crt": true, "crt-list": true, "ca-file": true, "crl-file": true, "ca-verify-file": true,
	"ca-sign-file": true, "-f": true, "-M": true, "file": true, "lf-file": true, "errorfile": true,
}

// fileKeywords are directives whose argument at the index given is a file
// or directory.
var fileKeywords = map[string]int{
	"errorfile": 1, "ca-base": 0, "crt-base": 0, "h1-case-adjust-file": 0, "server-state-file": 0,
	"ssl-dh-param-file": 0, "51degrees-data-file": 0, "wurfl-data-file": 0, "deviceatlas-json-file": 0,
	"lua-load": 0, "lua-load-per-thread": 0, "lua-prepend-path": 0, "ssl-provider-path": 0,
	"issuers-chain-path": 0,
}

// mapFile finds the file of a map converter or a map/ACL action:
// map(/etc/x.map), %[src,map_ip(...)], set-map(...), add-acl(...).
var mapFile = regexp.MustCompile(`(?:^|[,\s%\[])(?:map(?:_\w+)?|set-map|del-map|add-acl|del-acl)\(([^,)]*)`)

// FileRef is a file named by a directive: Path as written, in argument
// Arg (an index into the directive's arguments).
type FileRef struct {
	Arg  int
	Path string
}

// FilesNamed lists the files a directive kw with arguments args names,
// in argument order. Options that take a file are listed wherever they
// appear; callers that drop a line's options skip the line.
func FilesNamed(kw string, args []string) []FileRef {
	var out []FileRef
	at, keyword := fileKeywords[kw]
	for i, a := range args {
		switch {
		case keyword && i == at:
			out = append(out, FileRef{i, a})
		case i > 0 && fileOptions[args[i-1]]:
			out = append(out, FileRef{i, a})
		}
		for _, m := range mapFile.FindAllStringSubmatch(a, -1) {
			out = append(out, FileRef{i, m[1]})
		}
	}
	return out
}
