package cli

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// noNewline is what patch(1) expects after a last line without a "\n".
const noNewline = "\n\\ No newline at end of file\n"

// unifiedDiff returns a unified diff from a to b that patch(1) applies:
// "--- /dev/null" and a "-0,0" range when a is missing (the file is
// created), and "\ No newline at end of file" after a last line without
// one. fromName and toName are the paths written in the header.
func unifiedDiff(a, b []byte, missing bool, fromName, toName string) string {
	if missing {
		fromName, a = "/dev/null", nil
	}
	// Writing to an in-memory buffer cannot fail.
	diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: diffLines(a), B: diffLines(b), FromFile: fromName, ToFile: toName, Context: 3,
	})
	return diff
}

// diffLines splits text into lines that keep their "\n"; a last line
// without one carries the "\ No newline" marker (so "b" and "b\n" differ,
// as they should), and an empty text has no lines. difflib.SplitLines
// would add the missing "\n" instead.
func diffLines(text []byte) []string {
	lines := strings.SplitAfter(string(text), "\n")
	last := len(lines) - 1
	if lines[last] == "" {
		return lines[:last]
	}
	lines[last] += noNewline
	return lines
}
