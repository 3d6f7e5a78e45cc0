package nginx

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	crossplane "github.com/nginxinc/nginx-go-crossplane"

	"github.com/wslb/wslb/driver"
	"github.com/wslb/wslb/proxy/rewrite"
)

// NGINX's defaults for upstream servers.
const (
	nginxMaxFails    = 1
	nginxFailTimeout = 10 * time.Second
)

// nginxServerTimers reads max_fails and fail_timeout from the parameters
// of an upstream server line.
func nginxServerTimers(file string, line int, args []string) (rewrite.Timers, error) {
	t := rewrite.Timers{Known: true, MaxFails: nginxMaxFails, FailTimeout: nginxFailTimeout}
	for _, p := range args {
		switch {
		case strings.HasPrefix(p, "max_fails="):
			n, err := strconv.Atoi(strings.TrimPrefix(p, "max_fails="))
			if err != nil || n < 0 {
				return rewrite.Timers{}, &rewrite.Error{File: file, Line: line, Msg: fmt.Sprintf("%s: max_fails takes a number of failures (0 turns it off)", p)}
			}
			t.MaxFails = n
		case strings.HasPrefix(p, "fail_timeout="):
			d, ok := ParseDuration(strings.TrimPrefix(p, "fail_timeout="))
			if !ok {
				return rewrite.Timers{}, &rewrite.Error{File: file, Line: line, Msg: fmt.Sprintf("%s: fail_timeout takes a time (e.g. 10s)", p)}
			}
			t.FailTimeout = d
		}
	}
	t.Checks = t.MaxFails > 0
	return t, nil
}

// fastNginxServerArgs sets fail_timeout on an upstream server's kept
// parameters to what verify renders for generated configs checked every
// driver.FastCheckInterval with the line's max_fails.
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
	ft := FailTimeout(driver.FastCheckInterval, maxFails)
	return append(out, "fail_timeout="+strconv.FormatInt(int64(ft/time.Second), 10)+"s")
}

// upstreamTimers reads max_fails and fail_timeout of an upstream's servers;
// servers that differ make them unknown.
func upstreamTimers(up *crossplane.Directive) (rewrite.Timers, error) {
	var all []rewrite.Timers
	for _, d := range up.Block {
		if d.Directive != "server" || len(d.Args) == 0 {
			continue
		}
		t, err := nginxServerTimers(d.File, d.Line, d.Args[1:])
		if err != nil {
			return rewrite.Timers{}, err
		}
		all = append(all, t)
	}
	return rewrite.SameTimers(all), nil
}
