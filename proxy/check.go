package proxy

import "strings"

// CheckMessage is one error a proxy's binary reported checking a config.
type CheckMessage struct {
	// Text is the error line without the binary's log prefix.
	Text string
	// File and Line are the place the error names ("" and 0 when it
	// names none); Message is Text without that place.
	File    string
	Line    int
	Message string
}

// CheckMessages reads the output of d's binary checking a config: its
// error lines, each once, in order, as d's CheckOutput reads them; the
// whole output is one message when that reads none (or d has none).
func (d *Descriptor) CheckMessages(output string) []CheckMessage {
	var out []CheckMessage
	if d != nil && d.CheckOutput != nil {
		out = d.CheckOutput(output)
	}
	if len(out) == 0 {
		all := strings.TrimSpace(output)
		out = []CheckMessage{{Text: all, Message: all}}
	}
	return out
}

// ReadCheckOutput reads a binary's check output for a CheckOutput: each
// line that isError accepts becomes a message, with its log prefix
// (matched by prefix) cut and the place position finds (file, line and
// the text to cut around it) taken out of Message; a line repeated with
// another prefix is read once.
func ReadCheckOutput(output string, isError func(line string) bool, prefix func(line string) string, position func(text string) (file string, line int, at string, ok bool)) []CheckMessage {
	var out []CheckMessage
	seen := map[string]bool{}
	for _, raw := range strings.Split(output, "\n") {
		line := strings.TrimSpace(raw)
		if !isError(line) {
			continue
		}
		m := CheckMessage{Text: prefix(line)}
		if seen[m.Text] {
			continue
		}
		seen[m.Text] = true
		m.Message = m.Text
		if file, n, at, ok := position(line); ok {
			m.File, m.Line = file, n
			msg := strings.TrimSpace(prefix(strings.Replace(line, at, "", 1)))
			m.Message = strings.TrimSpace(strings.TrimPrefix(msg, ":"))
		}
		out = append(out, m)
	}
	return out
}
