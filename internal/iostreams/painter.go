package iostreams

// ANSI SGR attributes, joined with ';' to combine them ("1;31" is bold
// red).
const (
	Bold    = "1"
	Dim     = "2"
	Red     = "31"
	Green   = "32"
	Yellow  = "33"
	Magenta = "35"
	Cyan    = "36"
)

// Painter wraps text in ANSI escapes when On and leaves it untouched
// otherwise, so callers compute widths on the plain text.
type Painter struct{ On bool }

// Paint wraps s in the SGR attributes code, then a reset.
func (p Painter) Paint(s, code string) string {
	if !p.On || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Bold paints s bold.
func (p Painter) Bold(s string) string { return p.Paint(s, Bold) }

// Dim paints s faint.
func (p Painter) Dim(s string) string { return p.Paint(s, Dim) }
