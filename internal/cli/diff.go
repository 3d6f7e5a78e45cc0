package cli

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// unifiedDiff returns a unified diff from a to b that patch(1) applies:
// "--- /dev/null" and a "-0,0" range when a is missing (the file is
// created), and "\ No newline at end of file" after a last line without
// one. fromName and toName are the paths written in the header.
func unifiedDiff(a, b []byte, missing bool, fromName, toName string) string {
	al, bl := splitLines(a), splitLines(b)
	if missing {
		fromName, al = "/dev/null", nil
	}
	var out strings.Builder
	groups := difflib.NewMatcher(al, bl).GetGroupedOpCodes(3)
	if len(groups) == 0 {
		return ""
	}
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", fromName, toName)
	line := func(prefix byte, s string) {
		out.WriteByte(prefix)
		out.WriteString(s)
		if !strings.HasSuffix(s, "\n") {
			out.WriteString("\n\\ No newline at end of file\n")
		}
	}
	for _, g := range groups {
		first, last := g[0], g[len(g)-1]
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(first.I1, last.I2), hunkRange(first.J1, last.J2))
		for _, c := range g {
			if c.Tag == 'e' {
				for _, s := range al[c.I1:c.I2] {
					line(' ', s)
				}
				continue
			}
			if c.Tag == 'r' || c.Tag == 'd' {
				for _, s := range al[c.I1:c.I2] {
					line('-', s)
				}
			}
			if c.Tag == 'r' || c.Tag == 'i' {
				for _, s := range bl[c.J1:c.J2] {
					line('+', s)
				}
			}
		}
	}
	return out.String()
}

// hunkRange formats lines [start, stop) as a unified diff range: "l,n",
// "l" for one line, and "l-1,0" (the line before) for none.
func hunkRange(start, stop int) string {
	n := stop - start
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits text into lines that keep their "\n"; a last line
// without one is kept as it is, and an empty text has no lines.
func splitLines(text []byte) []string {
	lines := strings.SplitAfter(string(text), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}
