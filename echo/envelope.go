package echo

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// The envelope's wire format is fixed, so that both ends handle it without
// reflection or allocation: one JSON object with the fields in this order,
// no spaces, and the ID unescaped (IDs are letters, digits and "._:-"):
//
//	{"backend":"ws1","conn":12,"seq":3,"time":1773480413123456789,"echo":"hello"}
//
// "time" is the server's clock in nanoseconds since the Unix epoch, a
// number: formatting a date costs more than the rest of the envelope and
// makes the reply longer. "echo" is the payload as a JSON string: `"` and `\` escaped, control
// characters as \n, \r, \t or \u00XX, U+2028 and U+2029 as \u2028 and
// \u2029, invalid UTF-8 as U+FFFD; everything else as is. Any JSON decoder
// reads it as an Envelope.

const (
	envBackend = `{"backend":"`
	envConn    = `","conn":`
	envSeq     = `,"seq":`
	envTime    = `,"time":`
	envEcho    = `,"echo":"`
	envEnd     = `"}`
)

// AppendEnvelope appends the envelope of one reply to dst.
func AppendEnvelope(dst []byte, backend string, conn, seq uint64, t time.Time, payload []byte) []byte {
	dst = append(dst, envBackend...)
	dst = append(dst, backend...)
	dst = append(dst, envConn...)
	dst = strconv.AppendUint(dst, conn, 10)
	dst = append(dst, envSeq...)
	dst = strconv.AppendUint(dst, seq, 10)
	dst = append(dst, envTime...)
	dst = strconv.AppendInt(dst, t.UnixNano(), 10)
	dst = append(dst, envEcho...)
	dst = appendJSONString(dst, payload)
	return append(dst, envEnd...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends the body of a JSON string holding s.
func appendJSONString(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}

// EnvelopeView is a parsed envelope whose fields point into the reply: only
// what a client uses (the backend and the echo) is parsed.
type EnvelopeView struct {
	Backend []byte
	echo    []byte // the decoded payload
}

// ErrNotEnvelope is returned by ParseEnvelope for anything that is not an
// echo envelope.
var ErrNotEnvelope = errors.New("not an echo envelope")

// ParseEnvelope reads a reply in the fixed format without copying it. A
// reply whose echo holds an escape (or raw invalid UTF-8, never sent by this
// package), or that is valid JSON in another layout, is decoded the slow
// way: only a body that decodes to itself is read in place.
func ParseEnvelope(data []byte) (EnvelopeView, error) {
	rest, ok := bytes.CutPrefix(data, []byte(envBackend))
	if !ok {
		return slowEnvelope(data)
	}
	i := bytes.IndexByte(rest, '"')
	if i <= 0 {
		return slowEnvelope(data)
	}
	backend, rest := rest[:i], rest[i:]
	// Skip conn, seq and time: the echo starts after `","echo":"`.
	j := bytes.Index(rest, []byte(envEcho))
	if j < 0 || !bytes.HasPrefix(rest, []byte(envConn)) {
		return slowEnvelope(data)
	}
	body, ok := bytes.CutSuffix(rest[j+len(envEcho):], []byte(envEnd))
	if !ok || bytes.IndexByte(body, '\\') >= 0 || bytes.IndexByte(body, '"') >= 0 || !utf8.Valid(body) {
		return slowEnvelope(data)
	}
	return EnvelopeView{Backend: backend, echo: body}, nil
}

// slowEnvelope decodes an envelope in any JSON layout. Only the backend
// and the echo are read, so a reply whose time is still RFC 3339 text (as
// before it was a number) is read too.
func slowEnvelope(data []byte) (EnvelopeView, error) {
	var env struct{ Backend, Echo string }
	if err := json.Unmarshal(data, &env); err != nil || env.Backend == "" {
		return EnvelopeView{}, ErrNotEnvelope
	}
	return EnvelopeView{Backend: []byte(env.Backend), echo: []byte(env.Echo)}, nil
}

// EchoIs reports whether the envelope echoes payload.
func (v EnvelopeView) EchoIs(payload []byte) bool { return bytes.Equal(v.echo, payload) }

// Echo returns the echoed payload (allocates).
func (v EnvelopeView) Echo() string { return string(v.echo) }

// ReadAll appends everything r yields to buf, growing it as needed; with a
// reused buffer a message costs no allocation.
func ReadAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
