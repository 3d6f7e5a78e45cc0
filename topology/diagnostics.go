package topology

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/mitchellh/go-wordwrap"

	"github.com/wslb/wslb/internal/iostreams"
)

// Bounds on what WriteDiagnostics prints, whatever the input.
const (
	// MaxPrintedDiagnostics is how many diagnostics are printed in full;
	// the rest are counted in an "and N more" line.
	MaxPrintedDiagnostics = 20
	// maxSnippetWidth bounds a source line shown in a snippet, in
	// characters after escaping; longer lines are cut around the range.
	maxSnippetWidth = 120
	// maxTextLen bounds a summary or detail line (which may quote input).
	maxTextLen = 500
)

// WriteDiagnostics renders diags in the compiler style editors and CI logs
// understand: a "file:line:col: severity: summary" line, the source line with
// the offending range underlined, and the detail (what to do). width wraps
// the detail (0 disables wrapping); color adds ANSI colors. Control
// characters and bidirectional overrides are escaped, at most
// MaxPrintedDiagnostics are printed and snippets are cut to a bounded width,
// so the output stays small and safe for a terminal whatever the input.
func (l *Loader) WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, width uint, color bool) error {
	bw := bufio.NewWriter(w)
	files := l.parser.Files()
	indexes := map[string]*lineIndex{}
	for i, d := range diags {
		if i == MaxPrintedDiagnostics {
			fmt.Fprintf(bw, "… and %s.\n", countDiagnostics(diags[i:]))
			break
		}
		severity, tint := "error", iostreams.Bold+";"+iostreams.Red
		if d.Severity == hcl.DiagWarning {
			severity, tint = "warning", iostreams.Bold+";"+iostreams.Yellow
		}
		p := iostreams.Painter{On: color}
		summary := escapeText(d.Summary)
		if d.Subject != nil {
			pos := fmt.Sprintf("%s:%d:%d:", escapeText(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
			fmt.Fprintf(bw, "%s %s %s\n", p.Bold(pos), p.Paint(severity+":", tint), p.Bold(summary))
			if f := files[d.Subject.Filename]; f != nil {
				idx := indexes[d.Subject.Filename]
				if idx == nil {
					idx = newLineIndex(f.Bytes)
					indexes[d.Subject.Filename] = idx
				}
				writeSnippet(bw, idx, *d.Subject, func(s string) string { return p.Paint(s, tint) })
			}
		} else {
			fmt.Fprintf(bw, "%s %s\n", p.Paint(severity+":", tint), p.Bold(summary))
		}
		if d.Detail != "" {
			for _, line := range strings.Split(d.Detail, "\n") {
				line = escapeText(line)
				if width > 4 {
					line = wordwrap.WrapString(line, width-2)
				}
				for _, l := range strings.Split(line, "\n") {
					fmt.Fprintf(bw, "  %s\n", l)
				}
			}
		}
		fmt.Fprintln(bw)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing diagnostics: %w", err)
	}
	return nil
}

// countDiagnostics words how many errors and warnings diags hold, e.g.
// "3 more errors and 1 more warning".
func countDiagnostics(diags hcl.Diagnostics) string {
	errs := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		}
	}
	plural := func(n int, what string) string {
		if n == 1 {
			return "1 " + what
		}
		return strconv.Itoa(n) + " " + what + "s"
	}
	switch warns := len(diags) - errs; {
	case warns == 0:
		return plural(errs, "more error")
	case errs == 0:
		return plural(warns, "more warning")
	default:
		return plural(errs, "more error") + " and " + plural(warns, "more warning")
	}
}

// lineIndex finds source lines without splitting the source again for
// every diagnostic.
type lineIndex struct {
	src    []byte
	starts []int // byte offset of each line's start
}

func newLineIndex(src []byte) *lineIndex {
	starts := []int{0}
	for i := 0; ; {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		starts = append(starts, i)
	}
	return &lineIndex{src: src, starts: starts}
}

// line returns line n (1-based) without its line ending.
func (x *lineIndex) line(n int) ([]byte, bool) {
	if n < 1 || n > len(x.starts) {
		return nil, false
	}
	end := len(x.src)
	if n < len(x.starts) {
		end = x.starts[n] - 1
	}
	return bytes.TrimRight(x.src[x.starts[n-1]:end], "\r"), true
}

// writeSnippet prints the first line of rng with its number and underlines
// the range on it (to the end of the line when the range spans lines).
// Characters that could disturb a terminal are escaped and a long line is
// cut to a window around the range.
func writeSnippet(w io.Writer, idx *lineIndex, rng hcl.Range, paint func(string) string) {
	raw, ok := idx.line(rng.Start.Line)
	if !ok {
		return
	}
	runes := []rune(strings.ToValidUTF8(string(raw), "\uFFFD"))
	start := min(max(rng.Start.Column-1, 0), len(runes))
	end := len(runes)
	if rng.End.Line == rng.Start.Line {
		end = min(max(rng.End.Column-1, start+1), len(runes))
	}
	// Display pieces: one per rune, escaped where needed; tabs stay so
	// the underline lines up with the source.
	pieces := make([]string, len(runes))
	for i, r := range runes {
		if r == '\t' {
			pieces[i] = "\t"
		} else {
			pieces[i] = escapeRune(r)
		}
	}
	from, to := window(pieces, start, end)
	var line, indent strings.Builder
	if from > 0 {
		line.WriteString("…")
		indent.WriteString(" ")
	}
	under := 0
	for i := from; i < to; i++ {
		line.WriteString(pieces[i])
		n := utf8.RuneCountInString(pieces[i])
		switch {
		case i < start && pieces[i] == "\t":
			indent.WriteString("\t")
		case i < start:
			indent.WriteString(strings.Repeat(" ", n))
		case i < end:
			under += n
		}
	}
	if to < len(pieces) {
		line.WriteString("…")
	}
	num := strconv.Itoa(rng.Start.Line)
	gutter := strings.Repeat(" ", len(num))
	fmt.Fprintf(w, " %s | %s\n", num, line.String())
	fmt.Fprintf(w, " %s | %s%s\n", gutter, indent.String(), paint(strings.Repeat("^", max(min(under, maxSnippetWidth), 1))))
}

// window picks the pieces [from, to) to show: the whole line when it fits
// in maxSnippetWidth, otherwise a window starting a little before start.
func window(pieces []string, start, end int) (from, to int) {
	width := func(a, b int) int {
		n := 0
		for _, p := range pieces[a:b] {
			n += utf8.RuneCountInString(p)
		}
		return n
	}
	if width(0, len(pieces)) <= maxSnippetWidth {
		return 0, len(pieces)
	}
	from = start
	for from > 0 && start-from < 20 {
		from--
	}
	to, n := from, 0
	for to < len(pieces) && n+utf8.RuneCountInString(pieces[to]) <= maxSnippetWidth {
		n += utf8.RuneCountInString(pieces[to])
		to++
	}
	return from, max(to, min(start+1, len(pieces)))
}

// escapeText escapes what escapeRune escapes and cuts s to maxTextLen
// characters.
func escapeText(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if n == maxTextLen {
			b.WriteString("…")
			break
		}
		b.WriteString(escapeRune(r))
		n++
	}
	return b.String()
}

// escapeRune writes control characters, bidirectional controls and other
// invisible format characters as Go escapes (\x1b, \u202e), so that a
// topology cannot move the cursor, recolour the terminal or reorder what
// the reader sees.
func escapeRune(r rune) string {
	if r == '\t' || !(unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError ||
		unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)) {
		return string(r)
	}
	q := strconv.QuoteRuneToASCII(r)
	return q[1 : len(q)-1]
}
