package proxy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckMessages(t *testing.T) {
	// A proxy that says nothing about its output: the whole output.
	var none *Descriptor
	require.Equal(t, []CheckMessage{{Text: "odd", Message: "odd"}}, none.CheckMessages(" odd\n"))
	d := &Descriptor{CheckOutput: func(out string) []CheckMessage {
		return ReadCheckOutput(out,
			func(l string) bool { return strings.HasPrefix(l, "E ") || strings.HasPrefix(l, "log: E ") },
			func(l string) string { return strings.TrimPrefix(strings.TrimPrefix(l, "log: "), "E ") },
			func(l string) (string, int, string, bool) {
				if i := strings.Index(l, " at f.conf:3"); i >= 0 {
					return "f.conf", 3, " at f.conf:3", true
				}
				return "", 0, "", false
			})
	}}
	got := d.CheckMessages("info\nE bad value at f.conf:3\nlog: E bad value at f.conf:3\nE : no place\n")
	require.Equal(t, []CheckMessage{
		{Text: "bad value at f.conf:3", File: "f.conf", Line: 3, Message: "bad value"},
		{Text: ": no place", Message: ": no place"},
	}, got, "a line repeated with another prefix is read once")
	require.Equal(t, []CheckMessage{{Text: "info", Message: "info"}}, d.CheckMessages("info\n"), "no error line: the whole output")
}
