package haproxy

import (
	"fmt"
	"strconv"
	"time"

	"github.com/haproxytech/config-parser/v5/params"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/proxy/rewrite"
)

// HAProxy's defaults for what a server line leaves out.
const (
	haproxyInter = 2 * time.Second
	haproxyRise  = 2
	haproxyFall  = 3
)

// fastMs and fastTimeoutMs are FastCheckInterval and FastCheckTimeout as
// HAProxy reads them.
var (
	fastMs        = rewrite.FastMs
	fastTimeoutMs = strconv.FormatInt(driver.FastCheckTimeout.Milliseconds(), 10) + "ms"
)

// haproxyTimers reads the health check settings of be's servers: each
// server's own options over the default-server lines before it (in be, then
// in its defaults section). Servers that differ make them unknown.
func (h *haproxyConfig) haproxyTimers(be *Section) (rewrite.Timers, error) {
	var defaults []*Directive
	if be.Defaults != nil {
		defaults = be.Defaults.Own("default-server")
	}
	var all []rewrite.Timers
	for _, l := range be.Directives {
		switch l.Keyword {
		case "default-server":
			defaults = append(defaults, l)
			continue
		case "server":
		default:
			continue
		}
		t := rewrite.Timers{Known: true, Interval: haproxyInter, Rise: haproxyRise, Fall: haproxyFall}
		lines := append(append([]*Directive(nil), defaults...), l)
		for _, d := range lines {
			opts := d.Args
			if d.Keyword == "server" {
				opts = d.Args[min(2, len(d.Args)):]
			}
			if err := h.applyServerTimers(&t, d, opts); err != nil {
				return rewrite.Timers{}, err
			}
		}
		all = append(all, t)
	}
	return rewrite.SameTimers(all), nil
}

// applyServerTimers sets in t the check options of line l.
func (h *haproxyConfig) applyServerTimers(t *rewrite.Timers, l *Directive, opts []string) error {
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
				d, err := ParseDuration(o.Value)
				if err != nil || d <= 0 {
					return &rewrite.Error{File: h.file, Line: l.Line, Msg: fmt.Sprintf("%s %q is not a positive time (e.g. 2s, 500ms)", o.Name, o.Value)}
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
					return &rewrite.Error{File: h.file, Line: l.Line, Msg: fmt.Sprintf("%s %q is not a positive number", o.Name, o.Value)}
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
// intervals with driver.FastCheckInterval.
func fastServerOptions(opts []string) []string {
	opts = withoutOption(withoutOption(withoutOption(opts, "inter"), "fastinter"), "downinter")
	return append(opts, "inter", fastMs, "fastinter", fastMs, "downinter", fastMs)
}

// fastCheckTimeout returns the `timeout check` value the fast local copy
// uses for a configured v: at least driver.FastCheckTimeout.
// A value HAProxy cannot read stays, so that HAProxy names it at the
// user's line.
func fastCheckTimeout(v string) string {
	if d, err := ParseDuration(v); err != nil || d >= driver.FastCheckTimeout {
		return v
	}
	return fastTimeoutMs
}

// hasCheckTimeout reports whether s sets `timeout check`.
func hasCheckTimeout(s *Section) bool {
	return s != nil && len(s.Own("timeout", "check")) > 0
}
