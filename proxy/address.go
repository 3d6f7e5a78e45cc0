package proxy

import "strings"

// Address is a server address as a config writes it: validate --exec
// stubs its host name before the proxy's binary checks the config.
type Address struct {
	File string
	// Off is the token's byte offset in File, -1 when it is not written
	// verbatim where the parser saw it (escapes, several lines).
	Off   int
	Token string
	// Host is the part of Token that names a host ("" for none), at
	// byte At of Token.
	Host string
	At   int
}

// AddrHost takes the host from a server address: "host:port", "host" or
// "host:port-range"; bracketed and bare IPv6, unix sockets, "family@"
// addresses and variables have none. at is the host's offset in addr.
func AddrHost(addr string) (host string, at int) {
	if addr == "" || strings.ContainsAny(addr, "@$[") || strings.HasPrefix(addr, "unix:") || strings.HasPrefix(addr, "/") {
		return "", 0
	}
	switch strings.Count(addr, ":") {
	case 0:
		return addr, 0
	case 1:
		return addr[:strings.IndexByte(addr, ':')], 0
	}
	return "", 0 // bare IPv6
}

// URLHost takes the host from a URL ("scheme://host:port/path") or an
// address ("host:port").
func URLHost(arg string) (host string, at int) {
	if i := strings.Index(arg, "://"); i >= 0 {
		at = i + 3
	}
	rest := arg[at:]
	if j := strings.IndexAny(rest, "/?"); j >= 0 {
		rest = rest[:j]
	}
	host, off := AddrHost(rest)
	return host, at + off
}

// LineStarts returns the byte offset of each line of data.
func LineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}
