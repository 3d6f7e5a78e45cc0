package haproxy

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/wslb/wslb/proxy"
)

var (
	// alertPrefix is the start of an error line up to its message:
	// "[ALERT]    (123) : config : ".
	alertPrefix = regexp.MustCompile(`^\[ALERT\]\s*\(\d+\)\s*:\s*(config\s*:\s*)?`)
	// parsingRe is what is left of "parsing [file:line] : " once the
	// place is taken out.
	parsingRe = regexp.MustCompile(`^parsing\s*:\s*`)
	// alertPlace is the place an error names: "[file:line]".
	alertPlace = regexp.MustCompile(`\[([^\]:]+):(\d+)\]`)
)

// checkOutput reads the [ALERT] lines of `haproxy -c`.
func checkOutput(output string) []proxy.CheckMessage {
	return proxy.ReadCheckOutput(output,
		func(line string) bool { return strings.Contains(line, "ALERT") },
		func(line string) string {
			return parsingRe.ReplaceAllString(strings.TrimSpace(alertPrefix.ReplaceAllString(line, "")), "")
		},
		func(line string) (string, int, string, bool) {
			m := alertPlace.FindStringSubmatch(line)
			if m == nil {
				return "", 0, "", false
			}
			n, _ := strconv.Atoi(m[2])
			return m[1], n, m[0], true
		})
}
