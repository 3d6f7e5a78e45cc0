package output

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/wslb/wslb/internal/iostreams"
	"github.com/wslb/wslb/validate"
)

// textPrinter writes "file:line:col: severity RULE message" with the fix
// on the next line and a summary.
type textPrinter struct{ color bool }

func (p textPrinter) Print(w io.Writer, r validate.Result) error {
	paint := iostreams.Painter{On: p.color}
	sevColor := map[validate.Severity]string{
		validate.Error:   iostreams.Red + ";" + iostreams.Bold,
		validate.Warning: iostreams.Yellow + ";" + iostreams.Bold,
		validate.Info:    iostreams.Cyan,
	}
	var b strings.Builder
	for _, f := range r.Findings {
		pos := fmt.Sprintf("%s:%d", printable(f.File), f.Line)
		if f.Column > 0 {
			pos += fmt.Sprintf(":%d", f.Column)
		}
		sev := f.Severity.String()
		if c, ok := sevColor[f.Severity]; ok {
			sev = paint.Paint(sev, c)
		}
		fmt.Fprintf(&b, "%s: %s %s %s\n", paint.Bold(pos), sev, f.Rule, printable(f.Message))
		if f.Fix != "" {
			fmt.Fprintf(&b, "    %s %s\n", paint.Dim("fix:"), printable(f.Fix))
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	s := r.Summary()
	if s.Total == 0 {
		fmt.Fprintf(&b, "no findings in %s\n", plural(s.Files, "file"))
	} else {
		fmt.Fprintf(&b, "%s (%s, %s, %s) in %s\n", plural(s.Total, "finding"),
			plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"), plural(s.Files, "file"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if word == "info" {
		return fmt.Sprintf("%d infos", n)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// printable escapes control characters, so that text quoted from a hostile
// config cannot move the cursor or recolour the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}
