package safefile

import (
	"io"
	"strings"
)

// tailBytes is how much of a log's end TailLines reads: a program that
// printed gigabytes still costs this much to quote.
const tailBytes = 64 << 10

// TailLines is the last n lines of the log at path (a process's output
// that may be hostile and huge), read from at most its last 64 KiB; nil
// when it cannot be read or is empty.
func TailLines(path string, n int) []string {
	f, err := OpenRegular(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(st.Size()-tailBytes, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil
	}
	text := strings.TrimRight(string(b), "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	if off > 0 {
		lines = lines[1:] // the first is cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
