package haproxy

import (
	"fmt"
	"strings"
)

// Word is one word of a config line after HAProxy's unquoting, with the
// 1-based byte column where it starts.
type Word struct {
	Text string
	Col  int
	// End is the byte offset just past the word's last byte in the line.
	End int
}

// SyntaxError is a line HAProxy refuses to split, at a 1-based column.
type SyntaxError struct {
	Col int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// Tokenize splits a line the way HAProxy 2.6 does (parse_line), so that
// what wslb matches is what HAProxy runs:
//
//   - words are separated by blanks; an unquoted '#' starts a comment,
//     even in the middle of a word;
//   - "double" and 'single' quotes group and vanish, and quoted and
//     unquoted pieces next to each other form one word (se"rv"er is
//     server);
//   - outside single quotes a backslash escapes ' ', '\', '#', '"', '\”,
//     '$', and \r, \n, \t, \xHH stand for their bytes; any other backslash
//     stays as it is (serv\er is the unknown keyword serv\er, as in HAProxy);
//   - inside double quotes "$NAME", "${NAME}" and "${NAME-default}" expand
//     environment variables. wslb runs proxies with an empty environment,
//     so they expand to nothing (or the default); "${NAME[*]}" likewise.
//
// A syntax error HAProxy rejects (unterminated quote, bad \x sequence,
// unmatched brace) comes back as err; words read so far are returned.
func Tokenize(line string) (words []Word, comment string, err error) {
	var (
		cur     strings.Builder
		start   = -1
		inWord  bool
		dquote  bool
		squote  bool
		quoteAt int
	)
	begin := func(i int) {
		if !inWord {
			inWord, start = true, i
		}
	}
	flush := func(end int) {
		if inWord {
			words = append(words, Word{Text: cur.String(), Col: start + 1, End: end})
		}
		cur.Reset()
		inWord, start = false, -1
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case squote:
			if c == '\'' {
				squote = false
				continue
			}
			cur.WriteByte(c)
		case c == '\\':
			begin(i)
			if i+1 >= len(line) {
				cur.WriteByte(c)
				continue
			}
			switch n := line[i+1]; n {
			case ' ', '\\', '#', '"', '\'', '$':
				cur.WriteByte(n)
				i++
			case 'r':
				cur.WriteByte('\r')
				i++
			case 'n':
				cur.WriteByte('\n')
				i++
			case 't':
				cur.WriteByte('\t')
				i++
			case 'x':
				if i+3 >= len(line) || !isHex(line[i+2]) || !isHex(line[i+3]) {
					return words, "", &SyntaxError{Col: i + 1, Msg: "truncated or invalid hexadecimal sequence"}
				}
				cur.WriteByte(unhex(line[i+2])<<4 | unhex(line[i+3]))
				i += 3
			default:
				cur.WriteByte(c) // not an escape: HAProxy keeps the backslash
			}
		case dquote:
			switch c {
			case '"':
				dquote = false
			case '$':
				n, text, err := expandEnv(line, i)
				if err != nil {
					return words, "", err
				}
				cur.WriteString(text)
				i += n - 1
			default:
				cur.WriteByte(c)
			}
		case c == '"':
			begin(i)
			dquote, quoteAt = true, i
		case c == '\'':
			begin(i)
			squote, quoteAt = true, i
		case c == '#':
			flush(i)
			return words, strings.TrimSpace(line[i+1:]), nil
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			flush(i)
		default:
			begin(i)
			cur.WriteByte(c)
		}
	}
	if dquote || squote {
		flush(len(line))
		return words, "", &SyntaxError{Col: quoteAt + 1, Msg: "unterminated quote"}
	}
	flush(len(line))
	return words, "", nil
}

// expandEnv reads the variable reference at line[i] ('$') inside double
// quotes and returns how many bytes it spans and its value in an empty
// environment. A '$' not followed by a name is a plain '$'.
func expandEnv(line string, i int) (n int, text string, err error) {
	j := i + 1
	if j < len(line) && line[j] == '{' {
		end := strings.IndexByte(line[j:], '}')
		if end < 0 {
			return 0, "", &SyntaxError{Col: i + 1, Msg: "unmatched brace in environment variable name"}
		}
		inner := line[j+1 : j+end]
		k := 0
		for k < len(inner) && isNameByte(inner[k]) {
			k++
		}
		rest := inner[k:]
		switch {
		case k == 0:
			return 0, "", &SyntaxError{Col: i + 1, Msg: "empty environment variable name"}
		case rest == "" || rest == "[*]":
			text = ""
		case rest[0] == '-':
			text = rest[1:] // unset: the default
		default:
			return 0, "", &SyntaxError{Col: i + 1, Msg: "unmatched brace in environment variable name"}
		}
		return j + end + 1 - i, text, nil
	}
	for j < len(line) && isNameByte(line[j]) {
		j++
	}
	if j == i+1 {
		return 1, "$", nil
	}
	return j - i, "", nil
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// QuoteWord writes w so that Tokenize (and HAProxy) read it back as
// exactly w, with no variable expanded and no comment started: plain
// words stay as they are, anything else is escaped byte by byte.
func QuoteWord(w string) string {
	if w == "" {
		return `''`
	}
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == ' ' || c == '\\' || c == '#' || c == '"' || c == '\'' || c == '$':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// JoinWords writes words as one config line HAProxy splits back into
// exactly those words.
func JoinWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = QuoteWord(w)
	}
	return strings.Join(q, " ")
}

// Conditional reports whether kw is one of HAProxy's conditional-block or
// message directives (.if, .elif, .else, .endif, .diag, .notice, .warning,
// .alert), which are not configuration keywords.
func Conditional(kw string) bool {
	switch kw {
	case ".if", ".elif", ".else", ".endif", ".diag", ".notice", ".warning", ".alert":
		return true
	}
	return false
}
