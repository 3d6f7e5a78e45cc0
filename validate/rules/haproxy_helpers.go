package rules

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wslb/wslb/proxy/haproxy"
)

// hashAlgorithms are balance algorithms that hash a request property.
var hashAlgorithms = map[string]bool{"source": true, "uri": true, "url_param": true, "rdp-cookie": true}

// balanceHash returns the hashed property of a balance line ("source",
// "hdr(Host)", ...) or "" for non-hash algorithms.
func balanceHash(d *haproxy.Directive) string {
	if d == nil {
		return ""
	}
	alg := d.Arg(0)
	base := alg
	if i := strings.IndexByte(alg, '('); i >= 0 {
		base = alg[:i]
	}
	if hashAlgorithms[base] || base == "hdr" || base == "hash" {
		return alg
	}
	return ""
}

// activeServerCount counts servers that take traffic: server lines that
// are not backup or disabled, plus server-template sizes.
func activeServerCount(s *haproxy.Section) int {
	n := 0
	for _, d := range s.Directives {
		switch d.Keyword {
		case "server":
			if !slices.Contains(d.Args, "backup") && !slices.Contains(d.Args, "disabled") {
				n++
			}
		case "server-template":
			n += templateSize(d.Arg(1))
		}
	}
	return n
}

func templateSize(r string) int {
	lo, hi, ok := strings.Cut(r, "-")
	if !ok {
		n, err := strconv.Atoi(r)
		if err != nil {
			return 1
		}
		return n
	}
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || b < a {
		return 1
	}
	return b - a + 1
}

// httpFetchRe matches HTTP-only sample fetches (and the balance
// algorithms that read HTTP).
var httpFetchRe = regexp.MustCompile(`(?i)^(req\.|res\.|capture\.req\.|capture\.res\.)?(f?hdr|s?hdr|hdr_[a-z_]+|cook|cook_[a-z_]+|cookie|scook|set-cookie|url|url_[a-z0-9_]+|urlp|urlp_[a-z_]+|path|path_[a-z_]+|base|base_[a-z0-9_]+|query|method|http_auth[a-z_]*|status|ver|body[a-z_]*|uri)(\(|,|$)`)

// httpFetches returns the indexes of arguments of d that use HTTP-only
// sample fetches.
func httpFetches(d *haproxy.Directive) []int {
	var idx []int
	check := func(i int) {
		if i < len(d.Args) && httpFetchRe.MatchString(d.Args[i]) {
			idx = append(idx, i)
		}
	}
	switch d.Keyword {
	case "acl":
		check(1)
	case "balance":
		check(0)
	case "stick", "stick-on":
		check(1)
	}
	// Inline ACLs: the word after each "{".
	for i, a := range d.Args {
		if a == "{" {
			check(i + 1)
		}
	}
	return idx
}
