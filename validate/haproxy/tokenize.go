package haproxy

import "strings"

// token is one word of a config line and its 1-based byte column.
type token struct {
	text string
	col  int
}

// tokenize splits a line the way HAProxy does: words separated by blanks,
// double and single quotes group, a backslash escapes the next byte, and an
// unquoted '#' starts a comment. It reports an unterminated quote as ok=false.
func tokenize(line string) (toks []token, comment string, ok bool) {
	var (
		cur   strings.Builder
		start = -1
		quote byte
		flush = func() {
			if start >= 0 {
				toks = append(toks, token{text: cur.String(), col: start + 1})
			}
			cur.Reset()
			start = -1
		}
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
				continue
			}
			if c == '\\' && quote == '"' && i+1 < len(line) {
				i++
				c = line[i]
			}
			cur.WriteByte(c)
		case c == '\\' && i+1 < len(line):
			if start < 0 {
				start = i
			}
			i++
			cur.WriteByte(line[i])
		case c == '"' || c == '\'':
			if start < 0 {
				start = i
			}
			quote = c
		case c == '#':
			flush()
			return toks, strings.TrimSpace(line[i+1:]), true
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		default:
			if start < 0 {
				start = i
			}
			cur.WriteByte(c)
		}
	}
	flush()
	return toks, "", quote == 0
}
