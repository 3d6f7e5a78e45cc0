package rules

import (
	"fmt"
	"strings"

	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/topology"
)

// keyword is one row of a per-version keyword table: the words a line
// starts with, the first version that accepts them (zero: every
// supported one) and the first that rejects them again (zero: none).
type keyword struct {
	words   []string
	since   topology.Version
	removed topology.Version
	instead string
}

func v(major, minor, patch int) topology.Version {
	return topology.Version{Major: major, Minor: minor, Patch: patch}
}

// accepts reports whether version t takes the keyword.
func (k keyword) accepts(t topology.Version) bool {
	if k.since != (topology.Version{}) && !t.AtLeast(k.since.Major, k.since.Minor, k.since.Patch) {
		return false
	}
	if k.removed != (topology.Version{}) && t.AtLeast(k.removed.Major, k.removed.Minor, k.removed.Patch) {
		return false
	}
	return true
}

// why says why product version t rejects the keyword, writing versions
// with short (each product's docs have their own style).
func (k keyword) why(product string, short func(topology.Version) string, t topology.Version) string {
	name := strings.Join(k.words, " ")
	if k.since != (topology.Version{}) && !t.AtLeast(k.since.Major, k.since.Minor, k.since.Patch) {
		return fmt.Sprintf("%q needs %s %s or later; the target is %s", name, product, short(k.since), short(t))
	}
	return fmt.Sprintf("%q is not supported any more since %s %s; the target is %s", name, product, short(k.removed), short(t))
}

// short writes a version as HAProxy's docs do: 2.4, 2.4.1.
func short(v topology.Version) string { return v.Short() }

// haproxyKeywords covers the supported targets (HAProxy 2.4 to 3.2). The
// removals are the ones HAProxy itself reports as "not supported any
// more since"; the additions are section types.
var haproxyKeywords = []keyword{
	{words: []string{"nbproc"}, removed: v(2, 5, 0), instead: "remove it: nbthread (on by default) replaces processes"},
	{words: []string{"bind-process"}, removed: v(2, 7, 0), instead: "remove it: it has no effect since processes are gone"},
	{words: []string{"monitor-net"}, removed: v(2, 5, 0), instead: "http-request return status 200 if { src <net> }"},
	{words: []string{"option", "forceclose"}, removed: v(2, 0, 0), instead: "remove it, or option httpclose"},
	{words: []string{"option", "independant-streams"}, removed: v(2, 1, 0), instead: "option independent-streams"},
	{words: []string{"block"}, removed: v(2, 1, 0), instead: "http-request deny (same condition syntax)"},
	{words: []string{"redispatch"}, removed: v(2, 1, 0), instead: "option redispatch"},
	{words: []string{"redisp"}, removed: v(2, 1, 0), instead: "option redispatch"},
	{words: []string{"clitimeout"}, removed: v(2, 1, 0), instead: "timeout client"},
	{words: []string{"contimeout"}, removed: v(2, 1, 0), instead: "timeout connect"},
	{words: []string{"srvtimeout"}, removed: v(2, 1, 0), instead: "timeout server"},
	{words: []string{"reqadd"}, removed: v(2, 1, 0), instead: "http-request add-header"},
	{words: []string{"reqdel"}, removed: v(2, 1, 0), instead: "http-request del-header"},
	{words: []string{"reqidel"}, removed: v(2, 1, 0), instead: "http-request del-header"},
	{words: []string{"reqrep"}, removed: v(2, 1, 0), instead: "http-request replace-header, replace-path or replace-uri"},
	{words: []string{"reqirep"}, removed: v(2, 1, 0), instead: "http-request replace-header, replace-path or replace-uri"},
	{words: []string{"reqallow"}, removed: v(2, 1, 0), instead: "http-request allow"},
	{words: []string{"reqiallow"}, removed: v(2, 1, 0), instead: "http-request allow"},
	{words: []string{"reqdeny"}, removed: v(2, 1, 0), instead: "http-request deny"},
	{words: []string{"reqideny"}, removed: v(2, 1, 0), instead: "http-request deny"},
	{words: []string{"reqpass"}, removed: v(2, 1, 0), instead: "remove it, or http-request allow"},
	{words: []string{"reqipass"}, removed: v(2, 1, 0), instead: "remove it, or http-request allow"},
	{words: []string{"reqtarpit"}, removed: v(2, 1, 0), instead: "http-request tarpit"},
	{words: []string{"reqitarpit"}, removed: v(2, 1, 0), instead: "http-request tarpit"},
	{words: []string{"rspadd"}, removed: v(2, 1, 0), instead: "http-response add-header"},
	{words: []string{"rspdel"}, removed: v(2, 1, 0), instead: "http-response del-header"},
	{words: []string{"rspidel"}, removed: v(2, 1, 0), instead: "http-response del-header"},
	{words: []string{"rsprep"}, removed: v(2, 1, 0), instead: "http-response replace-header or replace-value"},
	{words: []string{"rspirep"}, removed: v(2, 1, 0), instead: "http-response replace-header or replace-value"},
	{words: []string{"rspdeny"}, removed: v(2, 1, 0), instead: "http-response deny"},
	{words: []string{"rspideny"}, removed: v(2, 1, 0), instead: "http-response deny"},
}

// rejectedByAll reports whether every supported version of the product
// (oldest and later) rejects the keyword: the only rows that can be
// judged when the target version is unknown.
func (k keyword) rejectedByAll(oldest topology.Version) bool {
	return k.since == (topology.Version{}) && k.removed != (topology.Version{}) && oldest.AtLeast(k.removed.Major, k.removed.Minor, k.removed.Patch)
}

// haproxySectionsSince are section types newer than the oldest target.
var haproxySectionsSince = map[string]topology.Version{
	"crt-store": v(3, 0, 0),
	"traces":    v(3, 1, 0),
	"acme":      v(3, 2, 0),
}

// haproxyKeywordFor returns the table row a directive starts with.
func haproxyKeywordFor(d *haproxy.Directive) (keyword, bool) {
	for _, k := range haproxyKeywords {
		if d.Is(k.words...) {
			return k, true
		}
	}
	return keyword{}, false
}

// nginxDirectives covers the supported targets (nginx 1.18 to 1.30).
var nginxDirectives = map[string]keyword{
	"http2":                           {since: v(1, 25, 1), instead: `"listen ... ssl http2;" on older versions`},
	"http3":                           {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version, or drop HTTP/3"},
	"http3_hq":                        {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"http3_max_concurrent_streams":    {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"http3_stream_buffer_size":        {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"quic_retry":                      {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"quic_gso":                        {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"quic_host_key":                   {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"quic_active_connection_id_limit": {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"quic_bpf":                        {since: v(1, 25, 0), instead: "target nginx >= 1.25.0 with --nginx-version"},
	"ssl_reject_handshake":            {since: v(1, 19, 4), instead: "target nginx >= 1.19.4 with --nginx-version"},
	"ssl_conf_command":                {since: v(1, 19, 4), instead: "target nginx >= 1.19.4 with --nginx-version"},
	"proxy_ssl_conf_command":          {since: v(1, 19, 4), instead: "target nginx >= 1.19.4 with --nginx-version"},
	"keepalive_time":                  {since: v(1, 19, 10), instead: "target nginx >= 1.19.10 with --nginx-version"},
	"ssl":                             {removed: v(1, 25, 1), instead: `"listen ... ssl;"`},
}

// NginxDirectiveKnown reports whether the version table decides the
// directive, so a parser's "unknown directive" or "not allowed here"
// about it gives way to the table (WSLB112).
func NginxDirectiveKnown(name string) bool {
	_, ok := nginxDirectives[name]
	return ok
}

func init() {
	for name, k := range nginxDirectives {
		k.words = []string{name}
		nginxDirectives[name] = k
	}
}
