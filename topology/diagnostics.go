package topology

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/mitchellh/go-wordwrap"
)

// WriteDiagnostics renders diags in the compiler style editors and CI logs
// understand: a "file:line:col: severity: summary" line, the source line with
// the offending range underlined, and the detail (what to do). width wraps
// the detail (0 disables wrapping); color adds ANSI colors.
func (l *Loader) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	bw := bufio.NewWriter(w)
	files := l.parser.Files()
	for _, d := range diags {
		severity, tint := "error", "\x1b[1;31m"
		if d.Severity == hcl.DiagWarning {
			severity, tint = "warning", "\x1b[1;33m"
		}
		paint := func(code, s string) string {
			if !color {
				return s
			}
			return code + s + "\x1b[0m"
		}
		if d.Subject != nil {
			pos := fmt.Sprintf("%s:%d:%d:", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
			fmt.Fprintf(bw, "%s %s %s\n", paint("\x1b[1m", pos), paint(tint, severity+":"), paint("\x1b[1m", d.Summary))
			if f := files[d.Subject.Filename]; f != nil {
				writeSnippet(bw, f.Bytes, *d.Subject, func(s string) string { return paint(tint, s) })
			}
		} else {
			fmt.Fprintf(bw, "%s %s\n", paint(tint, severity+":"), paint("\x1b[1m", d.Summary))
		}
		if d.Detail != "" {
			detail := d.Detail
			if width > 4 {
				detail = wordwrap.WrapString(detail, width-2)
			}
			for _, line := range strings.Split(detail, "\n") {
				fmt.Fprintf(bw, "  %s\n", line)
			}
		}
		fmt.Fprintln(bw)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

// writeSnippet prints the first line of rng with its number and underlines
// the range on it (to the end of the line when the range spans lines).
func writeSnippet(w io.Writer, src []byte, rng hcl.Range, paint func(string) string) {
	lines := bytes.Split(src, []byte("\n"))
	if rng.Start.Line < 1 || rng.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(string(lines[rng.Start.Line-1]), "\r")
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "\uFFFD")
	}
	runes := []rune(line)
	start := min(max(rng.Start.Column-1, 0), len(runes))
	end := len(runes)
	if rng.End.Line == rng.Start.Line {
		end = min(max(rng.End.Column-1, start+1), len(runes))
	}
	// Keep tabs in the indent so the underline lines up with the source.
	var indent strings.Builder
	for _, r := range runes[:start] {
		if r == '\t' {
			indent.WriteRune('\t')
		} else {
			indent.WriteRune(' ')
		}
	}
	num := fmt.Sprintf("%d", rng.Start.Line)
	gutter := strings.Repeat(" ", len(num))
	fmt.Fprintf(w, " %s | %s\n", num, line)
	fmt.Fprintf(w, " %s | %s%s\n", gutter, indent.String(), paint(strings.Repeat("^", max(end-start, 1))))
}
