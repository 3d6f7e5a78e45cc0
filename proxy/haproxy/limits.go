package haproxy

import (
	"regexp"
	"strconv"
)

var (
	maxconnRe = regexp.MustCompile(`(?m)^([ \t]*maxconn[ \t]+)(\d+)`)
	ulimitRe  = regexp.MustCompile(`(?m)^([ \t]*ulimit-n[ \t]+)(\d+)`)
)

// CapLimits lowers `maxconn` and `ulimit-n` lines of an HAProxy config to
// what this machine's descriptor limit allows: HAProxy refuses to start
// when it cannot raise its limit to fit maxconn (two descriptors per
// proxied connection). Production sizes are meaningless on loopback; line
// numbers stay the same.
func CapLimits(cfg []byte, maxconn, nofile int) []byte {
	lower := func(re *regexp.Regexp, limit int, b []byte) []byte {
		return re.ReplaceAllFunc(b, func(m []byte) []byte {
			sub := re.FindSubmatch(m)
			if n, err := strconv.Atoi(string(sub[2])); err == nil && n > limit {
				return append(append([]byte{}, sub[1]...), strconv.Itoa(limit)...)
			}
			return m
		})
	}
	return lower(ulimitRe, nofile, lower(maxconnRe, maxconn, cfg))
}
