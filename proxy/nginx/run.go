package nginx

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/wslb/wslb/internal/proxybin"
	"github.com/wslb/wslb/proxy"
	"github.com/wslb/wslb/topology"
)

var (
	daemonRe   = regexp.MustCompile(`(?m)^\s*daemon\s`)
	pidRe      = regexp.MustCompile(`(?m)^\s*pid\s`)
	errorLogRe = regexp.MustCompile(`(?m)^\s*error_log\s+("[^"]*"|'[^']*'|[^\s;]+)`)
)

// run starts nginx with the scratch dir as its prefix (-p), in the
// foreground and with its pid file there unless the config says otherwise
// (-g), and its startup errors in a file of their own where the binary
// has -e (1.19.5 and later; older ones refuse to start with it). The
// error logs the config names are scanned for a rejected reload.
func run(r proxy.RunRequest) (proxy.RunPlan, error) {
	text, err := os.ReadFile(r.Config)
	if err != nil {
		return proxy.RunPlan{}, fmt.Errorf("start nginx: %w", err)
	}
	bin, err := proxybin.At(proxybin.Nginx, r.Binary)
	if err != nil {
		return proxy.RunPlan{}, fmt.Errorf("start nginx: %w", err)
	}
	plan := proxy.RunPlan{Args: []string{"-p", r.Dir + "/", "-c", r.Config}, Reload: proxy.ReloadSIGHUP}
	if hasStartupLogFlag(bin) {
		startupLog := filepath.Join(r.Dir, "nginx-startup.log")
		plan.ErrorLogs = append(plan.ErrorLogs, startupLog)
		plan.Args = append(plan.Args, "-e", startupLog)
	}
	for _, m := range errorLogRe.FindAllSubmatch(text, -1) {
		path := strings.Trim(string(m[1]), `"'`)
		if path == "stderr" || strings.HasPrefix(path, "syslog:") || strings.HasPrefix(path, "memory:") {
			continue
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(r.Dir, path)
		}
		plan.ErrorLogs = append(plan.ErrorLogs, path)
	}
	var global []string
	if !daemonRe.Match(text) {
		global = append(global, "daemon off;")
	}
	if !pidRe.Match(text) {
		global = append(global, "pid "+filepath.Join(r.Dir, "nginx.pid")+";")
	}
	if len(global) > 0 {
		plan.Args = append(plan.Args, "-g", strings.Join(global, " "))
	}
	return plan, nil
}

// startupLogFlag is the first nginx with -e, which moves the startup
// error log.
var startupLogFlag = topology.Version{Major: 1, Minor: 19, Patch: 5}

// hasStartupLogFlag reports whether bin takes -e, the error log used
// before the config is read (1.19.5 and later).
func hasStartupLogFlag(bin proxybin.Binary) bool {
	v := startupLogFlag
	return bin.Version.AtLeast(v.Major, v.Minor, v.Patch)
}

// checkArgs tests the config at abs: -p makes relative paths resolve next
// to the config; -e keeps the startup error log out of system directories
// where nginx has it.
func checkArgs(bin proxybin.Binary, abs string) []string {
	args := []string{"-t", "-q", "-p", filepath.Dir(abs) + "/"}
	if hasStartupLogFlag(bin) {
		args = append(args, "-e", "stderr")
	}
	return append(args, "-c", abs)
}

var (
	// logPrefix is the start of an error line up to its message:
	// "nginx: [emerg] " on stderr, "2026/01/02 03:04:05 [emerg] 12#12: "
	// in the error log.
	logPrefix = regexp.MustCompile(`^(nginx: \[\w+\]\s*|\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[\w+\] \d+#\d+: )`)
	// errorPlace is the place an error names: "in file:line".
	errorPlace = regexp.MustCompile(`in (\S+):(\d+)`)
)

// checkOutput reads the [emerg], [crit] and [alert] lines of `nginx -t`;
// nginx repeats each on stderr and in the error log, read once.
func checkOutput(output string) []proxy.CheckMessage {
	return proxy.ReadCheckOutput(output,
		func(line string) bool {
			return strings.Contains(line, "[emerg]") || strings.Contains(line, "[crit]") || strings.Contains(line, "[alert]")
		},
		func(line string) string { return logPrefix.ReplaceAllString(line, "") },
		func(line string) (string, int, string, bool) {
			m := errorPlace.FindStringSubmatch(line)
			if m == nil {
				return "", 0, "", false
			}
			n, _ := strconv.Atoi(m[2])
			return m[1], n, m[0], true
		})
}
