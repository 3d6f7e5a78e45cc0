package rewrite

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/haproxytech/config-parser/v5/params"
	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/wslb/wslb/driver/loopback"
	"github.com/wslb/wslb/proxy/haproxy"
	"github.com/wslb/wslb/proxy/nginx"
)

// HAProxy's defaults for what a server line leaves out.
const (
	haproxyInter = 2 * time.Second
	haproxyRise  = 2
	haproxyFall  = 3
)

// NGINX's defaults for upstream servers.
const (
	nginxMaxFails    = 1
	nginxFailTimeout = 10 * time.Second
)

// fastMs and fastTimeoutMs are FastCheckInterval and FastCheckTimeout as
// HAProxy reads them.
var (
	fastMs        = strconv.FormatInt(loopback.FastCheckInterval.Milliseconds(), 10) + "ms"
	fastTimeoutMs = strconv.FormatInt(loopback.FastCheckTimeout.Milliseconds(), 10) + "ms"
)

// haproxyTimers reads the health check settings of be's servers: each
// server's own options over the default-server lines before it (in be, then
// in its defaults section). Servers that differ make them unknown.
func (h *haproxyConfig) haproxyTimers(be *hsection) (Timers, error) {
	var defaults []hline
	if be.defaults != nil {
		defaults = be.defaults.lines("default-server")
	}
	var all []Timers
	for _, l := range be.body {
		switch l.kw() {
		case "default-server":
			defaults = append(defaults, l)
			continue
		case "server":
		default:
			continue
		}
		t := Timers{Known: true, Interval: haproxyInter, Rise: haproxyRise, Fall: haproxyFall}
		lines := append(append([]hline(nil), defaults...), l)
		for _, d := range lines {
			opts := d.parts[1:]
			if d.kw() == "server" {
				opts = d.parts[min(3, len(d.parts)):]
			}
			if err := h.applyServerTimers(&t, d, opts); err != nil {
				return Timers{}, err
			}
		}
		all = append(all, t)
	}
	return sameTimers(all), nil
}

// sameTimers are the timers every server of a pool has; unknown (zero)
// when servers differ or there are none.
func sameTimers(all []Timers) Timers {
	for _, t := range all {
		if t != all[0] {
			return Timers{}
		}
	}
	if len(all) == 0 {
		return Timers{}
	}
	return all[0]
}

// applyServerTimers sets in t the check options of line l.
func (h *haproxyConfig) applyServerTimers(t *Timers, l hline, opts []string) error {
	for _, o := range params.ParseServerOptions(opts) {
		switch o := o.(type) {
		case *params.ServerOptionWord:
			switch o.Name {
			case "check":
				t.Checks = true
			case "no-check":
				t.Checks = false
			}
		case *params.ServerOptionValue:
			switch o.Name {
			case "inter", "fastinter", "downinter":
				d, err := haproxy.ParseDuration(o.Value)
				if err != nil || d <= 0 {
					return &Error{h.file, l.num, fmt.Sprintf("%s %q is not a positive time (e.g. 2s, 500ms)", o.Name, o.Value)}
				}
				switch o.Name {
				case "inter":
					t.Interval = d
				case "fastinter":
					t.FastInter = d
				default:
					t.DownInter = d
				}
			case "rise", "fall":
				n, err := strconv.Atoi(o.Value)
				if err != nil || n < 1 {
					return &Error{h.file, l.num, fmt.Sprintf("%s %q is not a positive number", o.Name, o.Value)}
				}
				if o.Name == "rise" {
					t.Rise = n
				} else {
					t.Fall = n
				}
			}
		}
	}
	return nil
}

// fastServerOptions replaces a server or default-server line's check
// intervals with loopback.FastCheckInterval.
func fastServerOptions(opts []string) []string {
	opts = withoutOption(withoutOption(withoutOption(opts, "inter"), "fastinter"), "downinter")
	return append(opts, "inter", fastMs, "fastinter", fastMs, "downinter", fastMs)
}

// fastCheckTimeout returns the `timeout check` value the fast local copy
// uses for a configured v: at least loopback.FastCheckTimeout.
// A value HAProxy cannot read stays, so that HAProxy names it at the
// user's line.
func fastCheckTimeout(v string) string {
	if d, err := haproxy.ParseDuration(v); err != nil || d >= loopback.FastCheckTimeout {
		return v
	}
	return fastTimeoutMs
}

// hasCheckTimeout reports whether s sets `timeout check`.
func hasCheckTimeout(s *hsection) bool {
	if s == nil {
		return false
	}
	for _, l := range s.lines("timeout") {
		if len(l.parts) > 1 && l.parts[1] == "check" {
			return true
		}
	}
	return false
}

// nginxServerTimers reads max_fails and fail_timeout from the parameters
// of an upstream server line.
func nginxServerTimers(file string, line int, args []string) (Timers, error) {
	t := Timers{Known: true, MaxFails: nginxMaxFails, FailTimeout: nginxFailTimeout}
	for _, p := range args {
		switch {
		case strings.HasPrefix(p, "max_fails="):
			n, err := strconv.Atoi(strings.TrimPrefix(p, "max_fails="))
			if err != nil || n < 0 {
				return Timers{}, &Error{file, line, fmt.Sprintf("%s: max_fails takes a number of failures (0 turns it off)", p)}
			}
			t.MaxFails = n
		case strings.HasPrefix(p, "fail_timeout="):
			d, ok := nginx.ParseDuration(strings.TrimPrefix(p, "fail_timeout="))
			if !ok {
				return Timers{}, &Error{file, line, fmt.Sprintf("%s: fail_timeout takes a time (e.g. 10s)", p)}
			}
			t.FailTimeout = d
		}
	}
	t.Checks = t.MaxFails > 0
	return t, nil
}

// fastNginxServerArgs sets fail_timeout on an upstream server's kept
// parameters to what verify renders for generated configs checked every
// loopback.FastCheckInterval with the line's max_fails.
func fastNginxServerArgs(args []string) []string {
	maxFails := nginxMaxFails
	var out []string
	for _, p := range args {
		if n, err := strconv.Atoi(strings.TrimPrefix(p, "max_fails=")); err == nil && strings.HasPrefix(p, "max_fails=") {
			maxFails = n
		}
		if !strings.HasPrefix(p, "fail_timeout=") {
			out = append(out, p)
		}
	}
	if maxFails == 0 {
		return args
	}
	ft := loopback.NginxFailTimeout(loopback.FastCheckInterval, maxFails)
	return append(out, "fail_timeout="+strconv.FormatInt(int64(ft/time.Second), 10)+"s")
}

// upstreamTimers reads max_fails and fail_timeout of an upstream's servers;
// servers that differ make them unknown.
func upstreamTimers(up *crossplane.Directive) (Timers, error) {
	var all []Timers
	for _, d := range up.Block {
		if d.Directive != "server" || len(d.Args) == 0 {
			continue
		}
		t, err := nginxServerTimers(d.File, d.Line, d.Args[1:])
		if err != nil {
			return Timers{}, err
		}
		all = append(all, t)
	}
	return sameTimers(all), nil
}
