package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/wslb/wslb/validate"
)

// githubPrinter writes GitHub Actions workflow commands, which the
// runner turns into annotations on the pull request.
type githubPrinter struct{}

var githubLevel = map[validate.Severity]string{
	validate.Error:   "error",
	validate.Warning: "warning",
	validate.Info:    "notice",
}

func (githubPrinter) Print(w io.Writer, r validate.Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		props := fmt.Sprintf("file=%s,line=%d", escapeProperty(slashPath(f.File)), f.Line)
		if f.Column > 0 {
			props += fmt.Sprintf(",col=%d", f.Column)
		}
		props += ",title=" + escapeProperty(f.Rule)
		msg := f.Message
		if f.Fix != "" {
			msg += "\nFix: " + f.Fix
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", githubLevel[f.Severity], props, escapeData(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeData and escapeProperty follow the Actions toolkit's rules.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
