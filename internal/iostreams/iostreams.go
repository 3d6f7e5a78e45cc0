// Package iostreams holds the standard streams a command reads and writes
// and what is known about them: whether each is a terminal, whether colour
// is wanted there and how wide the terminal is. Tests swap the streams for
// buffers and override what detection would find. Painter is the one way
// wslb colours text.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the streams a command uses. The zero value of the
// overrides means "detect": a stream is a terminal when it is an *os.File
// on a terminal, colour is on for a terminal unless NO_COLOR is set
// (https://no-color.org), the width is the terminal's.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY, errTTY *bool
	color          *bool
	width          int
}

// System returns the process's standard streams.
func System() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// Test returns streams on buffers (not terminals) and the buffers.
func Test() (s IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTerminal makes Out and ErrOut count as terminals, or not, whatever
// they are.
func (s *IOStreams) SetTerminal(out, errOut bool) {
	s.outTTY, s.errTTY = &out, &errOut
}

// SetColor forces colour on or off on both streams, over the terminal
// check and NO_COLOR.
func (s *IOStreams) SetColor(on bool) { s.color = &on }

// SetWidth fixes the width Width reports (0: detect).
func (s *IOStreams) SetWidth(columns int) { s.width = columns }

// OutIsTerminal reports whether Out is a terminal.
func (s IOStreams) OutIsTerminal() bool { return isTerminal(s.Out, s.outTTY) }

// ErrIsTerminal reports whether ErrOut is a terminal.
func (s IOStreams) ErrIsTerminal() bool { return isTerminal(s.ErrOut, s.errTTY) }

// ColorOut reports whether text written to Out may be coloured.
func (s IOStreams) ColorOut() bool { return s.colorOn(s.OutIsTerminal()) }

// ColorErr reports whether text written to ErrOut may be coloured.
func (s IOStreams) ColorErr() bool { return s.colorOn(s.ErrIsTerminal()) }

func (s IOStreams) colorOn(terminal bool) bool {
	if s.color != nil {
		return *s.color
	}
	return terminal && os.Getenv("NO_COLOR") == ""
}

// Width is Out's width in columns, 0 when Out is not a terminal or its
// size cannot be read.
func (s IOStreams) Width() int {
	if s.width > 0 {
		return s.width
	}
	if !s.OutIsTerminal() {
		return 0
	}
	f, ok := s.Out.(*os.File)
	if !ok {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return w
}

func isTerminal(w io.Writer, override *bool) bool {
	if override != nil {
		return *override
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
